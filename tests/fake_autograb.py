"""A fake of the AutoGrab v2 API on 127.0.0.1, serving every variant of the contract.

A real HTTP server in a thread: the real httpx client talks to it over loopback. Each VIN
selects a scenario (a list of replies, the last one repeating); tests may script their own.
Every request is recorded so tests can count paid calls and check what was sent.

To try vin-mcp without a key: ``python -m tests.fake_autograb`` (from a clone) serves it until Ctrl-C and
prints the two variables that point vin-mcp at it; its answers then say they are test data.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vin_mcp.autograb.client import TEST_DATA_HEADER

API_KEY = "sec_test_5f8a1c2e9b7d4f30a6e1"

_TRANSLITERATION = {
    **{c: i + 1 for i, c in enumerate("ABCDEFGH")},
    **{c: i + 1 for i, c in enumerate("JKLMN")},
    "P": 7,
    "R": 9,
    **{c: i + 2 for i, c in enumerate("STUVWXYZ")},
    **{str(d): d for d in range(10)},
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def with_check_digit(vin: str) -> str:
    """Put the correct check digit at position 9 (written independently of vin_mcp.vin.rules)."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    digit = "X" if total % 11 == 10 else str(total % 11)
    return vin[:8] + digit + vin[9:]


def eu_vin(serial: int, wmi: str = "WVW") -> str:
    """A European-style VIN (no check digit in use, no model year): unique per serial."""
    return f"{wmi}ZZZ1KZKU{serial:06d}"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    # "reset": drop the connection mid-body; "hang": never answer; "huge": stream a giant body;
    # "declared_huge": announce a giant Content-Length (in headers) and send nothing;
    # "trickle": send the headers, then the body one byte a second; "close_after": answer (keep-alive, as ever),
    # then close the connection, as a server does with one it will not keep; "chunked": the body in chunks;
    # "until_close": the body with no length, ended by closing the connection; "garbage": not HTTP at all
    action: str | None = None
    content_type: str = "application/json"


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    peer: int = 0  # the client's port: one per connection


def vehicle(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "5233518187642880",
        "region": "nz",
        "title": "2010 Volkswagen Polo Comfortline Automatic",
        "year": "2010",
        "make": "Volkswagen",
        "model": "Polo",
        "badge": "Comfortline",
        "series": "6R",
        "model_year": "MY10",
        "release_month": 1,
        "release_year": 2010,
        "body_type": "Hatchback",
        "body_config": None,
        "transmission": "Dual Clutch Automatic (DCT)",
        "transmission_type": "Automatic",
        "wheelbase": None,
        "wheelbase_type": None,
        "fuel": "Petrol",
        "fuel_type": "Petrol",
        "engine": "Piston",
        "engine_type": "Piston",
        "drive": "FWD",
        "drive_type": "Front Wheel Drive",
        "num_doors": 5,
        "num_seats": 5,
        "num_gears": 7,
        "num_cylinders": 4,
        "capacity_cc": 1390,
        "power_kw": 63,
        "torque_nm": 132,
        "range": None,
        "options": [{"detail": "Paint - Black", "price": 1500}],
    }
    base.update(overrides)
    return base


GOLF_OPTIONS = [
    {"detail": "Paint - Metallic", "price": 700},
    {"detail": "Sound & Vision Package", "price": 1900},
    {"detail": "Driver Assistance Package", "price": 1500},
    {"detail": "Panoramic Sunroof", "price": 1800},
    {"detail": "Luxury Package - Leather Appointed", "price": 3500},
    {"detail": "R-Line Package", "price": 2500},
    {"detail": 'Wheels - 18" Alloy', "price": 1000},
    {"detail": "Tow Bar - Detachable", "price": 950},
    {"detail": "Heated Front Seats", "price": 600},
    {"detail": "Park Assist", "price": 700},
    {"detail": "Digital Cockpit", "price": 750},
    {"detail": "Wireless Charging", "price": 300},
]

GOLF = vehicle(
    id="6011223344556677",
    region="au",
    title="2015 Volkswagen Golf 110 TSI Highline AU Auto MY15",
    year="2015",
    model="Golf",
    badge="110 TSI Highline",
    series="AU",
    model_year="MY15",
    release_year=2014,
    release_month=8,
    transmission="Sports Automatic Dual Clutch",
    num_gears=7,
    capacity_cc=1395,
    power_kw=110,
    torque_nm=250,
    options=GOLF_OPTIONS,
)


def match_body(vin: str, vehicle_json: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "vehicle": vehicle_json,
        "upstream_vehicle": "2010 Volkswagen POLO Polo Hatchback Automatic Petrol 1,380cc",
        "confidence": "standard",
        "colour": "Black",
        "vin": vin,
        "additional_vehicles": [],
    }
    body.update(extra)
    return body


# Named VINs for the scenarios tests refer to.
POLO = "WVWZZZ6RZAU020000"
RICH = eu_vin(1)
REDUCED = eu_vin(2)
CANDIDATES = eu_vin(3)
NO_MATCH_NULL = eu_vin(4)
NO_MATCH_BARE = eu_vin(5)
SUCCESS_FALSE = eu_vin(6)  # a bare "success": false is a failure, never a miss
NO_MATCH_404 = eu_vin(7)
WRITTEN_OFF = eu_vin(8)
EXTENDED = eu_vin(9)
MAKE_MISMATCH = "JTDZZZ1KZKU000010"  # a Toyota manufacturer code matched as a Volkswagen
# A current Toyota (JTN) matched as a Holden, the registry text naming a Toyota: the VIN and the registry disagree.
CONTRADICTED = eu_vin(15, wmi="JTN")
NA_BAD_CHECK = "1HGCM82603A004352"  # Honda; the right check digit is 3
NA_GOOD = with_check_digit("1HGCM82603A004352")
YEAR_MISMATCH = with_check_digit("1HGCM82605F004353")  # encodes 2005, matched as a 2012
NO_CONFIDENCE = eu_vin(11)
DRIFT = eu_vin(12)
DRIFT_NULL_LISTS = eu_vin(13)
MISSING_VEHICLE = eu_vin(14)
BUILD = "WVWZZZAWZKU065305"
BUILD_UNSUPPORTED = eu_vin(20)
TESLA = with_check_digit("5YJ3E1EA0KF123456")
VIN_ONLY = eu_vin(21)
# AutoGrab's documented sandbox plates, and a few of ours for the other kinds of answer: each answers as the
# VIN search of the VIN it names would (same query, same body), so a plate and a VIN share every scenario.
PLATES: dict[str, str] = {
    "REG4SUCCESS": RICH,  # good match, petrol
    "REG4SUCCESSEV": TESLA,  # good match, electric
    "REG4WARNING": REDUCED,  # low-quality match ("reduced")
    "REG4NOMATCH": NO_MATCH_NULL,  # the VIN and the registry's description, no vehicle
    "REG4VINONLY": VIN_ONLY,  # only the VIN
    "CAND1": CANDIDATES,  # several vehicles (with prefer_more_results)
    "WOFF1": WRITTEN_OFF,  # written off twice
    "EXT1": EXTENDED,  # the registration record (with features)
}
AU_STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")
BUILD_ERROR_200 = eu_vin(21)
# Fault scenarios, each a VIN.
FAULTS = {
    name: eu_vin(100 + i)
    for i, name in enumerate(
        [
            "400_message",
            "400_bare",
            "401",
            "403",
            "429_reset",
            "429_retry_after",
            "429_neither",
            "429_far",
            "500",
            "502",
            "503",
            "504",
            "flaky_503",
            "reset",
            "hang",
            "huge",
            "truncated",
            "html_200",
            "error_envelope_200",
            "success_false_error",
            "vehicle_is_string",
            "not_json_object",
        ]
    )
}

ERROR_ENVELOPE = {"error": True, "message": "Invalid or Unsupported VIN"}


def build_features(count: int) -> list[dict[str, str]]:
    names = [
        "4 doors",
        "Dual-clutch transmission DSG DQ200",
        "Panoramic sunroof",
        "Heated front seats",
        "LED headlights",
        "Rear view camera",
        "Adaptive cruise control",
        "Lane assist",
    ]
    return [{"code": f"{i:03X}", "value": f"{names[i % len(names)]} variant {i}"} for i in range(count)]


def default_scenarios() -> dict[tuple[str, str], list[Reply]]:
    """(endpoint, VIN) -> replies. Endpoint is "search" or "build"."""
    s: dict[tuple[str, str], list[Reply]] = {}

    def search(vin: str, *replies: Reply) -> None:
        s[("search", vin)] = list(replies)

    search(POLO, Reply(body=match_body(POLO, vehicle(), writeoff_info={"incident_list": []})))
    tesla = vehicle(
        title="2019 Tesla Model 3 Standard Range Plus",
        year="2019",
        make="Tesla",
        model="Model 3",
        badge="Standard Range Plus",
        series=None,
        body_type="Sedan",
        transmission="Reduction Gear",
        fuel="Electric",
        fuel_type="Electric",
        engine="Electric",
        drive="RWD",
        drive_type="Rear Wheel Drive",
        num_doors=4,
        num_cylinders=None,
        capacity_cc=None,
        power_kw=211,
        torque_nm=375,
        options=[{"detail": "Paint - Deep Blue Metallic", "price": 1400}],
    )
    search(TESLA, Reply(body=match_body(TESLA, tesla, colour="Deep Blue", upstream_vehicle="2019 TESLA MODEL 3 SEDAN")))
    search(VIN_ONLY, Reply(body={"success": True, "vehicle": None, "upstream_vehicle": None, "vin": VIN_ONLY}))
    search(
        RICH,
        Reply(
            body=match_body(
                RICH,
                GOLF,
                colour="Pure White",
                confidence="standard",
                upstream_vehicle="2015 VOLKSWAGEN GOLF 110TSI HIGHLINE HATCH 5DR AUTO 7SP 1.4T",
                writeoff_info={"incident_list": []},
            )
        ),
    )
    search(
        REDUCED,
        Reply(
            body=match_body(
                REDUCED,
                vehicle(title="2012 Volkswagen Polo 77 TSI Comfortline", year="2012", badge="77 TSI Comfortline"),
                confidence="reduced",
                upstream_vehicle="VOLKSWAGEN POLO 2012 GREY HATCH",
            )
        ),
    )
    candidates = [
        vehicle(
            title="2010 Volkswagen Polo Trendline Manual", badge="Trendline", transmission="Manual", capacity_cc=1390
        ),
        vehicle(title="2010 Volkswagen Polo 77 TSI Comfortline", badge="77 TSI Comfortline", capacity_cc=1197),
    ]
    search(CANDIDATES, Reply(body=match_body(CANDIDATES, vehicle(), additional_vehicles=candidates)))
    search(
        NO_MATCH_NULL,
        Reply(
            body={
                "success": True,
                "vehicle": None,
                "vin": NO_MATCH_NULL,
                "upstream_vehicle": "1998 HOLDEN COMMODORE VT SEDAN",
            }
        ),
    )
    search(NO_MATCH_BARE, Reply(body={"success": True, "vin": NO_MATCH_BARE}))
    search(SUCCESS_FALSE, Reply(body={"success": False}))
    search(NO_MATCH_404, Reply(status=404, body={"error": True, "message": "Vehicle not found"}))
    search(
        WRITTEN_OFF,
        Reply(
            body=match_body(
                WRITTEN_OFF,
                vehicle(),
                writeoff_info={
                    "incident_list": [
                        {
                            "code": "Repairable Write-off",
                            "damage_codes": "FRONT",
                            "jurisdiction": "NSW",
                            "recorded_date": "2019-06-14",
                            "type_code": "Collision",
                            "odometer": 84000,
                        },
                        {
                            "code": "Statutory Write-off",
                            "damage_codes": "REAR",
                            "jurisdiction": "VIC",
                            "recorded_date": "2021-02-01",
                            "type_code": "Flood",
                        },
                    ]
                },
            )
        ),
    )
    search(MAKE_MISMATCH, Reply(body=match_body(MAKE_MISMATCH, vehicle())))
    commodore = vehicle(
        title="2007 Holden Commodore Omega VE",
        year="2007",
        make="Holden",
        model="Commodore",
        badge="Omega",
        series="VE",
        body_type="Sedan",
        num_doors=4,
        transmission="Automatic",
        capacity_cc=3564,
        num_cylinders=6,
        drive_type="Rear Wheel Drive",
        power_kw=180,
        torque_nm=330,
        options=[],
    )
    search(
        CONTRADICTED,
        Reply(
            body=match_body(
                CONTRADICTED,
                commodore,
                upstream_vehicle="2007 TOYOTA YARIS HATCH",
                colour="Silver",
                writeoff_info={"incident_list": []},
            )
        ),
    )
    accord = vehicle(title="2003 Honda Accord EX", year="2003", make="Honda", model="Accord", badge="EX", series=None)
    for vin in (NA_BAD_CHECK, NA_GOOD):
        search(vin, Reply(body=match_body(vin, accord, upstream_vehicle="2003 HONDA ACCORD EX SEDAN")))
    search(
        YEAR_MISMATCH,
        Reply(
            body=match_body(
                YEAR_MISMATCH,
                vehicle(
                    title="2012 Honda Accord VTi", year=2012, make="Honda", model="Accord", badge="VTi", series=None
                ),
                upstream_vehicle="HONDA ACCORD VTI SEDAN",
            )
        ),
    )
    no_confidence = match_body(NO_CONFIDENCE, vehicle())
    del no_confidence["confidence"]
    search(NO_CONFIDENCE, Reply(body=no_confidence))
    search(
        DRIFT,
        Reply(
            body=match_body(
                DRIFT,
                vehicle(year=2010, capacity_cc="1,390", surprise={"x": 1}),
                brand_new_field=[1, 2, 3],
                colour=None,
            )
        ),
    )
    search(DRIFT_NULL_LISTS, Reply(body=match_body(DRIFT_NULL_LISTS, vehicle(options=None), additional_vehicles=None)))
    search(MISSING_VEHICLE, Reply(body={"success": True, "confidence": "standard", "vin": MISSING_VEHICLE}))

    s[("build", BUILD)] = [
        Reply(
            body={
                "success": True,
                "vehicle": {
                    "vin": BUILD,
                    "build_date": "2019-03-19",
                    "make": "VOLKSWAGEN",
                    "model": "POLO",
                    "features": [
                        {"code": "0A2", "value": "4 doors"},
                        {"code": "0EG", "value": "Dual-clutch transmission DSG DQ200"},
                        *build_features(298),
                    ],
                },
            }
        )
    ]
    s[("build", BUILD_UNSUPPORTED)] = [Reply(status=400, body=ERROR_ENVELOPE)]
    s[("build", BUILD_ERROR_200)] = [Reply(body={"error": True, "message": "Invalid VIN, must be 17 characters."})]

    f = FAULTS
    search(f["400_message"], Reply(status=400, body={"error": True, "message": "Region not enabled for this key"}))
    search(f["400_bare"], Reply(status=400, body=b"", content_type="text/plain"))
    search(f["401"], Reply(status=401, body={"error": True, "message": "Unauthorised"}))
    search(f["403"], Reply(status=403, body={"error": True, "message": "Forbidden"}))
    ok = Reply(body=match_body(POLO, vehicle()))
    search(f["429_reset"], Reply(status=429, headers={"Rate-Limit-Reset": "@+1", "Rate-Limit-Remaining": "0"}), ok)
    search(f["429_retry_after"], Reply(status=429, headers={"Retry-After": "1"}), ok)
    search(f["429_neither"], Reply(status=429, body={"error": True, "message": "Too many requests"}))
    search(f["429_far"], Reply(status=429, headers={"Retry-After": "120"}))
    for code in ("500", "502", "503", "504"):
        search(f[code], Reply(status=int(code), body=b"<html>upstream error</html>", content_type="text/html"))
    search(f["flaky_503"], Reply(status=503), ok)
    search(f["reset"], Reply(action="reset"))
    search(f["hang"], Reply(action="hang"))
    search(f["huge"], Reply(action="huge"))
    search(f["truncated"], Reply(body=b'{"success": true, "vehicle": {"title": "2010 Volks'))
    search(f["html_200"], Reply(body=b"<html><body>Please log in to the Wi-Fi</body></html>", content_type="text/html"))
    search(f["error_envelope_200"], Reply(body={"error": True, "message": "Invalid VIN, must be 17 characters."}))
    search(f["success_false_error"], Reply(body={"success": False, "error": True, "message": "Quota exceeded"}))
    search(f["vehicle_is_string"], Reply(body={"success": True, "vehicle": "Volkswagen Polo"}))
    search(f["not_json_object"], Reply(body=[1, 2, 3]))
    return s


def extended_reply(vin: str, uk: bool) -> Reply:
    data = {
        "body_type_description": "CAR/SEDAN",
        "color_description": "WHITE",
        "engine_number": "CAX123456",
        "make_code": "VOLKS",
        "model_description": "POLO",
        "vehicle_type_description": "PASSENGER\x07 CAR",
    }
    key = "additional_upstream_data" if uk else "extended_data"
    return Reply(body=match_body(vin, vehicle(), **{key: data}))


class FakeAutoGrab:
    """Start with ``start()``; ``url`` is the base URL to give the client."""

    def __init__(self, api_key: str = API_KEY, *, demo: bool = False) -> None:
        self.api_key = api_key
        # Run for people to try: every response says it is test data (vin-mcp's answers then say so too).
        self.demo = demo
        self.scenarios = default_scenarios()
        self.requests: list[Request] = []
        self.latency = 0.0
        # When set, every VIN search gets this reply (a storm of 429s, an outage).
        self.storm: Reply | None = None
        self._counters: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._scheme = "http"

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> FakeAutoGrab:
        """Serve on 127.0.0.1 (``port`` 0: any free one), over TLS with ``tls`` (a server-side context)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK add about 40 ms to every kept-alive request.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                fake._handle(self)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a real API's listen backlog; the default 5 drops bursts of connects

        self._httpd = Server(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
            self._scheme = "https"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._counters.clear()
            self.scenarios = default_scenarios()
            self.latency = 0.0
            self.storm = None

    def reset_calls(self) -> None:
        """Forget the requests seen (the scenarios stay)."""
        with self._lock:
            self.requests.clear()

    def script(self, endpoint: str, vin: str, *replies: Reply) -> None:
        with self._lock:
            self.scenarios[(endpoint, vin)] = list(replies)
            self._counters.pop((endpoint, vin), None)

    def calls(self, vin: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if vin is None or f"/{vin}" in r.path]

    def _next_reply(self, endpoint: str, vin: str, query: dict[str, str]) -> Reply:
        if self.storm is not None and endpoint == "search":
            return self.storm
        if endpoint == "search" and vin == EXTENDED:
            if query.get("features") == "additional_upstream_data":
                return extended_reply(vin, uk=query.get("region") == "uk")
            return Reply(body=match_body(vin, vehicle()))
        with self._lock:
            replies = self.scenarios.get((endpoint, vin))
            if not replies:
                return (
                    Reply(status=404, body=ERROR_ENVELOPE)
                    if endpoint == "build"
                    else Reply(body={"success": True, "vehicle": None, "vin": vin})
                )
            index = self._counters.get((endpoint, vin), 0)
            self._counters[(endpoint, vin)] = index + 1
            return replies[min(index, len(replies) - 1)]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            headers = {k.lower(): v for k, v in handler.headers.items()}
            self.requests.append(Request(parts.path, query, headers, handler.client_address[1]))
        if self.latency:
            time.sleep(self.latency)
        segments = parts.path.strip("/").split("/")
        if len(segments) == 4 and segments[:3] == ["v2", "vehicles", "registrations"]:
            if handler.headers.get("ApiKey") != self.api_key:
                return self._send(handler, Reply(status=401, body={"error": True, "message": "Invalid API key"}))
            return self._send(handler, self._plate_reply(segments[3], query))
        if len(segments) < 4 or segments[:3] != ["v2", "vehicles", "vins"]:
            return self._send(handler, Reply(status=404, body={"error": True, "message": "No route"}))
        if handler.headers.get("ApiKey") != self.api_key:
            return self._send(handler, Reply(status=401, body={"error": True, "message": "Invalid API key"}))
        vin = segments[3]
        endpoint = "build" if segments[4:] == ["build-data"] else "search"
        self._send(handler, self._next_reply(endpoint, vin, query))

    def _plate_reply(self, plate: str, query: dict[str, str]) -> Reply:
        """A plate search: the state checked as AutoGrab does in AU, then the named VIN's scenario."""
        if query.get("region", "au") == "au" and query.get("state") not in AU_STATES:
            return Reply(status=400, body={"error": True, "message": "A valid state is required for AU plates"})
        vin = PLATES.get(plate)
        if vin is None:
            return Reply(body={"success": True, "vehicle": None, "upstream_vehicle": None})
        return self._next_reply("search", vin, query)

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.action == "hang":
            self._stopping.wait(30)
            return
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        if reply.action == "huge":
            body = b'{"success": true, "junk": "' + b"x" * (8 * 1024 * 1024) + b'"}'
        if reply.action == "garbage":
            handler.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            handler.close_connection = True
            return
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        if self.demo:
            handler.send_header(TEST_DATA_HEADER, "1")
        for name, value in reply.headers.items():
            if value.startswith("@+"):  # relative reset time, made absolute when sent
                value = str(int(time.time() + float(value[2:])) + 1)
            handler.send_header(name, value)
        if reply.action == "reset":
            handler.send_header("Content-Length", "5000")
            handler.end_headers()
            handler.wfile.write(b'{"success": true, "vehi')
            handler.wfile.flush()
            # SO_LINGER 0 makes close() send RST: the connection is reset mid-body.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return
        if reply.action == "trickle":
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for byte in body[:30]:  # bounded: the client must give up long before
                if self._stopping.wait(1):
                    break
                try:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                except OSError:
                    break
            handler.close_connection = True
            return
        if reply.action == "chunked":
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for start in range(0, len(body), 100):
                piece = body[start : start + 100]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")
            return
        if reply.action == "until_close":
            handler.end_headers()
            handler.wfile.write(body)
            handler.close_connection = True
            return
        if reply.action == "declared_huge":
            # Announces more than any answer could be; the client must not start reading it.
            handler.end_headers()
            handler.close_connection = True
            return
        if reply.action == "huge":
            # No Content-Length: the client must cap what it reads by itself.
            handler.send_header("Connection", "close")
            handler.end_headers()
            with contextlib.suppress(OSError):
                handler.wfile.write(body)
            handler.close_connection = True
            return
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        if reply.action == "close_after":
            handler.close_connection = True


# What each demo VIN shows (python -m tests.fake_autograb).
DEMO_VINS = {
    RICH: "a sure match: a Golf with 12 option packs",
    CONTRADICTED: "a match the VIN and the registry text contradict",
    REDUCED: "a match AutoGrab itself doubts",
    CANDIDATES: "three candidate vehicles (lookup --candidates)",
    WRITTEN_OFF: "a vehicle written off twice",
    EXTENDED: "the registration record (lookup --extended)",
    NO_MATCH_NULL: "no match, with the registry's own description",
    BUILD: "factory build data, 300 codes (build-data)",
    FAULTS["401"]: "AutoGrab refusing the key",
    FAULTS["503"]: "AutoGrab down (after retries)",
}


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_autograb", description="Serve vin-mcp's fake of the AutoGrab API (test data)."
    )
    parser.add_argument("--port", type=int, default=8765, help="loopback port (default 8765; 0 picks a free one)")
    args = parser.parse_args(argv)
    try:
        fake = FakeAutoGrab(demo=True).start(args.port)
    except OSError as exc:
        raise SystemExit(f"Cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); try --port 0.") from None
    plates = {
        "REG4SUCCESS": "a sure match",
        "REG4SUCCESSEV": "a sure match, electric",
        "REG4WARNING": "a match AutoGrab doubts",
        "REG4NOMATCH": "no vehicle, the VIN and the registry's description",
        "REG4VINONLY": "no vehicle, only the VIN",
    }
    lines = [
        f"Fake AutoGrab API (test data only) on {fake.url}; Ctrl-C stops it.",
        "Point vin-mcp at it (in the shell, or in your MCP client's env for the server):",
        f"  export AUTOGRAB_BASE_URL={fake.url}",
        f"  export AUTOGRAB_API_KEY={fake.api_key}",
        "Then try, for example: .venv/bin/vin-mcp lookup " + RICH,
        "VINs for each kind of answer:",
        *(f"  {vin}  {what}" for vin, what in DEMO_VINS.items()),
        "Plates (AutoGrab's sandbox plates; any AU state, e.g. .venv/bin/vin-mcp plate REG4SUCCESS --state VIC):",
        *(f"  {plate:<17}{what}" for plate, what in plates.items()),
    ]
    print("\n".join(lines), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
