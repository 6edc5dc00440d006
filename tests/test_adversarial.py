"""Hostile gateways, bodies, operators and typists (issue 20, points 5 to 8 and 11 to 18): no false miss, no stall,
no secret in an error, no bill for what is not a VIN. Points 1 to 4 are in test_adversarial_http.py, 9 and 10 in
test_tenants.py and test_shared_cache.py, 15 in test_cli_prompt.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import anyio
import httpx
import pytest
from mcp.types import CallToolResult

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from tests.test_operator import INITIALIZE, clean_env, converse
from tests.test_stdout import call
from vin_mcp.answers.models import BuildFacts
from vin_mcp.autograb import client as client_module
from vin_mcp.autograb import constants
from vin_mcp.autograb.pacing import header_wait
from vin_mcp.autograb.text import clean_text
from vin_mcp.cache import SingleFlightCache
from vin_mcp.mcp_server import oauth
from vin_mcp.mcp_server.oauth import JwtVerifier
from vin_mcp.redaction import REDACTED, Redactor
from vin_mcp.service import open_service
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio
KEY = "sec_ADVERSARY_key_0123456789abcdef"


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "BACKOFF_BASE_SECONDS", 0.01)


# --- 5. A gateway's 404 is a failure, never a cached miss; a key error is a key error -------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            404,
            {
                "message": "Route GET:/v2/vehicles/vins/{vin}?region=au not found",
                "error": "Not Found",
                "statusCode": 404,
            },
        ),
        (404, {"message": "No matching route for request"}),
        (404, {"error": True, "message": "Not Found"}),
        (404, {"message": "Not Found"}),
    ],
    ids=["fastify", "no-route", "bare-error", "bare"],
)
async def test_a_gateways_404_is_a_failure_and_not_cached(
    fake: fa.FakeAutoGrab, settings: Settings, status: int, body: dict[str, Any]
) -> None:
    vin = fa.eu_vin(8_000)
    fake.script("search", vin, fa.Reply(status=status, body=json.loads(json.dumps(body).replace("{vin}", vin))))
    async with connect(settings) as client:
        first = await client.call_tool("lookup_vin", {"vin": vin})
        second = await client.call_tool("lookup_vin", {"vin": vin})
    for result in (first, second):
        assert result.is_error and "not a 'no match'" in text(result) and "NO MATCH" not in text(result)
    assert len(fake.calls(vin)) == 2  # never cached


async def test_the_apis_own_404_miss_is_still_a_miss(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        result = await client.call_tool("lookup_vin", {"vin": fa.NO_MATCH_404})
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["status"] == "no_match"


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (404, {"error": True, "message": "Not Found"}, "not a 'no match'"),
        (400, {"error": True, "message": "API key not found"}, "AUTOGRAB_API_KEY"),
        (200, {"error": True, "message": "Invalid API key"}, "AUTOGRAB_API_KEY"),
    ],
    ids=["gateway-404", "key-400", "key-200"],
)
async def test_build_data_never_says_none_for_a_gateway_or_key_error(
    fake: fa.FakeAutoGrab, settings: Settings, status: int, body: dict[str, Any], says: str
) -> None:
    vin = "WVWZZZAWZKU065310"
    fake.script("build", vin, fa.Reply(status=status, body=body))
    async with connect(settings) as client:
        result = await client.call_tool("get_factory_build_data", {"vin": vin})
        again = await client.call_tool("get_factory_build_data", {"vin": vin})
    assert result.is_error and says in text(result) and "has none" not in text(result)
    assert again.is_error and len(fake.calls(vin)) == 2


# --- 6. One hostile body does not stall the server --------------------------------------------------------


def test_cleaning_a_2_mb_field_costs_what_a_short_one_does() -> None:
    started = time.perf_counter()
    cleaned = clean_text("é" * 2_000_000)
    took = time.perf_counter() - started
    assert cleaned == "é" * 199 + "…" and took < 0.01


async def test_an_ordinary_lookup_beside_30_hostile_bodies_stays_quick(fake: fa.FakeAutoGrab) -> None:
    # 1.8 MB each, just under the 2 MiB cap: two-byte and invisible three-byte characters, as sent (UTF-8).
    hostile = json.dumps(
        fa.match_body(fa.POLO, fa.vehicle(title="é" * 600_000, badge="\u200b" * 200_000)), ensure_ascii=False
    )
    vins = [fa.eu_vin(8_100 + n) for n in range(30)]
    for vin in vins:
        fake.script("search", vin, fa.Reply(body=hostile.replace(fa.POLO, vin).encode()))
    assert len(hostile.encode()) < constants.MAX_BODY_BYTES
    async with open_service(make_settings(fake, timeout=10.0)) as service:
        took: list[float] = []

        async def ordinary() -> None:
            await anyio.sleep(0.2)  # while the hostile answers are being read and parsed
            started = time.monotonic()
            await service.lookup(fa.POLO)
            took.append(time.monotonic() - started)

        async with anyio.create_task_group() as tg:
            for vin in vins:
                tg.start_soon(service.lookup, vin)
            tg.start_soon(ordinary)
        answers = [await service.lookup(vin) for vin in vins]  # from the cache now
    assert took[0] < 1.0, took
    assert all(a.vehicle is not None and len(a.vehicle.title or "") <= 120 for a in answers)
    assert len(fake.calls()) == 31


# --- 7. Odd flags are failures; malformed Retry-After counts as absent -----------------------------------


@pytest.mark.parametrize("flags", [{"error": 1}, {"error": "yes"}, {"success": 0}, {"success": "ok"}, {"error": {}}])
async def test_odd_flags_beside_a_vehicle_are_a_failure_not_a_match(
    fake: fa.FakeAutoGrab, settings: Settings, flags: dict[str, Any]
) -> None:
    vin = fa.eu_vin(8_200)
    fake.script("search", vin, fa.Reply(body={**fa.match_body(vin, fa.vehicle()), **flags}))
    async with connect(settings) as client:
        first = await client.call_tool("lookup_vin", {"vin": vin})
        second = await client.call_tool("lookup_vin", {"vin": vin})
    assert first.is_error and "not true or false" in text(first) and second.is_error
    assert len(fake.calls(vin)) == 2


@pytest.mark.parametrize("value", ["1_0", "١٠", "۱۰", "1e1", "0x10", " 10abc"])
def test_a_malformed_retry_after_counts_as_absent(value: str) -> None:
    assert header_wait(httpx.Headers([(b"retry-after", value.encode())]), time.time()) is None
    assert header_wait(httpx.Headers({"retry-after": "10"}), time.time()) == 10


# --- 8. The per-entry cap counts what is stored -------------------------------------------------------------


async def test_an_entry_over_the_cap_is_not_kept(caplog: pytest.LogCaptureFixture) -> None:
    fetched = 0

    async def fetch() -> BuildFacts:
        nonlocal fetched
        fetched += 1
        return BuildFacts(found=True, codes=["0A2: 4 doors"] * 100)

    async with anyio.create_task_group() as tg:
        cache = SingleFlightCache(BuildFacts, tg, max_entries=10, ttl_for=lambda _: 60, max_entry_bytes=1_000)
        await cache.get("k", fetch)
        await cache.get("k", fetch)
    assert fetched == 2 and len(cache) == 0 and "was not cached" in caplog.text


# --- 11. A key pasted into the wrong setting never reaches the model -----------------------------------------


@pytest.mark.parametrize("variable", ["AUTOGRAB_REGION", "AUTOGRAB_BASE_URL", "VIN_MCP_CACHE_TTL", "VIN_MCP_LOG_LEVEL"])
def test_a_key_in_the_wrong_setting_is_never_echoed(fake: fa.FakeAutoGrab, variable: str) -> None:
    env = clean_env(**{variable: KEY})
    answers, stderr, _ = converse(env, [*INITIALIZE, call(3, "lookup_vin", vin=fa.POLO)])
    said = json.dumps(answers[3]) + stderr
    cli = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", fa.POLO, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for output in (said, cli.stdout + cli.stderr):
        assert variable in output and "looks like a key" in output
        assert KEY[:8] not in output and KEY[8:20] not in output


# --- 12. Any run of 12 characters of the key is removed, in every encoding -----------------------------------


@pytest.mark.parametrize(
    "leak",
    [
        "****" + KEY[4:],  # shown masked
        KEY[10:22],  # 12 characters from the middle
        "sec%5FADVERSARY%5Fkey%5F0123",  # every symbol URL-encoded
        KEY.upper()[6:30],
        KEY[:8],
    ],
)
def test_any_run_of_the_key_is_redacted(leak: str) -> None:
    said = Redactor([KEY]).text(f"error: {leak} was refused")
    assert REDACTED in said and said.endswith(f"{REDACTED} was refused")
    assert not any(KEY[i : i + 12].lower() in said.lower() for i in range(len(KEY) - 11))


def test_short_runs_and_the_key_format_are_not_redacted() -> None:
    redactor = Redactor([KEY])
    assert redactor.text(f"sec_ keys like {KEY[10:21]}") == f"sec_ keys like {KEY[10:21]}"


# --- 13. The issuer's keys: one deadline, a streamed cap ------------------------------------------------------


class _Issuer(BaseHTTPRequestHandler):
    mode = "trickle"
    sent = 0

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            if self.mode == "trickle":
                for byte in b'{"keys": [' + b" " * 100:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            else:
                self.wfile.write(b'{"keys": [')
                for _ in range(300):  # 300 MB of blanks, unless the reader stops
                    self.wfile.write(b" " * 1_000_000)
                    type(self).sent += 1
        except OSError:
            pass


@pytest.mark.parametrize("mode", ["trickle", "huge"])
async def test_a_hostile_jwks_is_given_up_quickly_and_never_held(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(oauth, "FETCH_DEADLINE_SECONDS", 1.5)
    handler: type[_Issuer] = type("Handler", (_Issuer,), {"mode": mode, "sent": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    tracemalloc.start()
    started = time.monotonic()
    try:
        token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln"
        access = await JwtVerifier(url, "aud", f"{url}/jwks.json").verify_token(token)
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        server.shutdown()
    assert access is None and took < 2.5
    assert peak < 5_000_000
    assert handler.sent < 50


# --- 14. Look-alike letters do not pass the cross-checks -------------------------------------------------------


async def test_a_cyrillic_look_alike_make_is_still_contradicted(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    vin = fa.eu_vin(8_300)  # a Volkswagen manufacturer code
    fake.script(
        "search", vin, fa.Reply(body=fa.match_body(vin, fa.vehicle(make="TОYОTA", title="2010 TОYОTA Corolla")))
    )
    async with connect(settings) as client:
        result = await client.call_tool("lookup_vin", {"vin": vin})
    answer = result.structured_content or {}
    assert answer["status"] == "unconfirmed" and answer["confidence"]["level"] != "high"
    assert "TОYОTA" in text(result)  # what the user sees stays as received


# --- 16. A refused custom base URL says to check it ----------------------------------------------------------


async def test_a_refused_custom_base_url_names_the_setting(fake: fa.FakeAutoGrab) -> None:
    settings = make_settings(fake, base_url="http://127.0.0.1:9", timeout=1.0)
    async with connect(settings) as client:
        result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
    assert result.is_error and "AUTOGRAB_BASE_URL" in text(result) and "http://127.0.0.1:9" in text(result)
    assert "try again in a minute" not in text(result)


# --- 17. Every bad setting at once; a flag wins over its setting ----------------------------------------------


def test_a_flag_overrides_a_bad_setting_and_every_bad_setting_is_reported(fake: fa.FakeAutoGrab) -> None:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url, AUTOGRAB_REGION="us")
    overridden = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", fa.POLO, "--region", "au"], env=env, capture_output=True, text=True
    )
    both = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", fa.POLO],
        env={**env, "AUTOGRAB_TIMEOUT": "soon"},
        capture_output=True,
        text=True,
    )
    assert overridden.returncode == 0, overridden.stderr
    assert both.returncode == 2
    (line,) = both.stderr.strip().splitlines()
    assert "AUTOGRAB_REGION is 'us'" in line and "AUTOGRAB_TIMEOUT is 'soon'" in line


# --- 18. Obvious non-VINs are refused locally ---------------------------------------------------------------


@pytest.mark.parametrize("vin", ["00000000000000000", "AAAAAAAAAAAAAAAAA", "11111111111111111", "12345678901234567"])
async def test_obvious_non_vins_are_refused_without_a_call(fake: fa.FakeAutoGrab, settings: Settings, vin: str) -> None:
    async with connect(settings) as client:
        lookup = await client.call_tool("lookup_vin", {"vin": vin})
        build = await client.call_tool("get_factory_build_data", {"vin": vin})
    for result in (lookup, build):
        assert result.is_error and "placeholder, not a vehicle's VIN" in text(result)
        assert "\n" not in text(result)
    assert fake.calls() == []


async def test_obvious_non_vins_are_refused_offline_too(fake: fa.FakeAutoGrab) -> None:
    async with connect(Settings(api_key=None)) as client:
        result = await client.call_tool("lookup_vin", {"vin": "11111111111111111"})
    assert result.is_error and "Maserati" not in text(result)
