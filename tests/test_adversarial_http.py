"""Hostile clients of the HTTP server and SIGTERM (issue 20, points 1 to 4): no lockout, no stall, no lost answer.

Several client addresses come from the loopback range (127.0.0.2, 127.0.0.3, ...), as several machines would.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests import fake_autograb as fa
from tests.oauth_issuer import Issuer
from tests.redis_server import free_port
from tests.test_http import INITIALIZE, MCP_HEADERS, TOKEN, serving
from tests.test_oauth import oauth_server
from tests.test_operator import INITIALIZE as STDIO_INITIALIZE
from tests.test_operator import clean_env
from tests.test_stdout import call
from vin_mcp.mcp_server.http_settings import HttpSettings
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio
HEADERS = {**MCP_HEADERS, "mcp-protocol-version": "2025-06-18"}


def from_address(address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=30)


async def open_session(http: httpx.AsyncClient, url: str) -> httpx.Response:
    return await http.post(url, json=INITIALIZE, headers=HEADERS)


async def call_tool(http: httpx.AsyncClient, url: str, session: str | None, vin: str) -> httpx.Response:
    """A lookup in the session (after its initialized notification), or stateless without one."""
    headers = dict(HEADERS)
    if session is not None:
        headers["mcp-session-id"] = session
        await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    params = {"name": "lookup_vin", "arguments": {"vin": vin}}
    return await http.post(
        url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}, headers=headers
    )


# --- 1. Session exhaustion --------------------------------------------------------------------------------


async def test_a_flood_of_sessions_from_one_client_locks_nobody_out(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    http = HttpSettings(max_sessions=4, max_sessions_per_client=2)
    with serving(settings, http) as base:
        url = f"{base}/mcp"
        async with from_address("127.0.0.2") as flooder, from_address("127.0.0.3") as desk:
            opened = [await open_session(flooder, url) for _ in range(40)]
            health = (await desk.get(f"{base}/health")).json()
            first = opened[0].headers["mcp-session-id"]
            evicted = await flooder.post(
                url, json={"jsonrpc": "2.0", "id": 9, "method": "ping"}, headers={**HEADERS, "mcp-session-id": first}
            )
            mine = await open_session(desk, url)
            answer = await call_tool(desk, url, mine.headers["mcp-session-id"], fa.POLO)
    assert all(response.status_code == 200 for response in opened)  # each new one closed the flooder's idlest
    assert health["sessions"] == {"open": 2, "max": 4} and health["status"] == "ok"
    assert evicted.status_code == 404  # the MCP spec has that client start a new session
    assert mine.status_code == 200 and '"isError":false' in answer.text


async def test_only_busy_sessions_make_the_server_saturated(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    fake.latency = 1.5
    http = HttpSettings(max_sessions=3, max_sessions_per_client=3)
    with serving(settings, http) as base:
        url = f"{base}/mcp"
        clients = [from_address(f"127.0.0.{n}") for n in range(4, 8)]
        try:
            sessions = [(await open_session(c, url)).headers["mcp-session-id"] for c in clients[:3]]
            async with anyio.create_task_group() as tg:
                for n, (client, session) in enumerate(zip(clients, sessions, strict=False)):
                    tg.start_soon(call_tool, client, url, session, fa.eu_vin(7_000 + n))
                while len(fake.calls()) < 3:  # noqa: ASYNC110 - the fake runs in a thread: polled
                    await anyio.sleep(0.02)
                busy_health = (await clients[3].get(f"{base}/health")).json()
                refused = await open_session(clients[3], url)
            idle_health = (await clients[3].get(f"{base}/health")).json()
            admitted = await open_session(clients[3], url)  # now the idlest is closed to make room
        finally:
            for client in clients:
                await client.aclose()
    assert busy_health["status"] == "saturated" and refused.status_code == 503
    assert refused.headers["retry-after"] == "5" and "no room" in refused.json()["error"]["message"]
    assert idle_health["status"] == "ok" and admitted.status_code == 200


# --- 2. Slowloris before authentication -------------------------------------------------------------------


def test_trickling_connections_are_closed_and_health_stays_quick(settings: Settings) -> None:
    http = HttpSettings(token=TOKEN, header_timeout=1.0)
    with serving(settings, http) as base:
        port = int(base.rsplit(":", 1)[1])
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
        for sock in sockets:
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        stop = threading.Event()

        def trickle() -> None:  # one header byte every 0.3 s on every connection, as slowloris does
            while not stop.wait(0.3):
                for sock in sockets:
                    with contextlib.suppress(OSError):
                        sock.sendall(b"X")

        threading.Thread(target=trickle, daemon=True).start()
        try:
            timings = []
            for _ in range(5):
                started = time.monotonic()
                assert httpx.get(f"{base}/health", timeout=5).status_code == 200
                timings.append(time.monotonic() - started)
                time.sleep(0.2)
            time.sleep(1.5)  # past the header deadline
            closed = 0
            for sock in sockets:
                sock.settimeout(0.5)
                with contextlib.suppress(OSError, TimeoutError):
                    closed += sock.recv(1) == b""
        finally:
            stop.set()
            for sock in sockets:
                sock.close()
    assert max(timings) < 1.0, timings
    assert closed == 200


# --- 3. SIGTERM: one bound, the same on stdio and HTTP ------------------------------------------------------


@pytest.mark.parametrize("stateless", [False, True])
def test_sigterm_over_http_answers_every_call_within_the_bound(fake: fa.FakeAutoGrab, stateless: bool) -> None:
    """Three calls wait on a slow AutoGrab (5 s) when SIGTERM comes with a 1 s bound: each is answered
    "shutting down", the process exits 0 in about the bound, and nothing in the log is a traceback."""
    fake.latency = 5.0
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0", *(["--stateless"] * stateless)],
            env=clean_env(
                AUTOGRAB_API_KEY=fa.API_KEY,
                AUTOGRAB_BASE_URL=fake.url,
                AUTOGRAB_TIMEOUT="10",
                VIN_MCP_SHUTDOWN_SECONDS="1",
            ),
            stderr=errors,
        )
        answers: list[httpx.Response] = []
        try:
            for _ in range(300):
                errors.seek(0)
                if "listening on" in (said := errors.read()):
                    break
                time.sleep(0.05)
            url = said.split("listening on ")[1].split()[0]

            async def one(http: httpx.AsyncClient, n: int) -> None:
                session = None if stateless else (await open_session(http, url)).headers["mcp-session-id"]
                answers.append(await call_tool(http, url, session, fa.eu_vin(7_100 + n)))

            async def three_calls_then_sigterm() -> float:
                async with httpx.AsyncClient(timeout=20) as http, anyio.create_task_group() as tg:
                    for n in range(3):
                        tg.start_soon(one, http, n)
                    while len(fake.calls()) < 3:  # noqa: ASYNC110 - the fake runs in a thread: polled
                        await anyio.sleep(0.02)
                    process.send_signal(signal.SIGTERM)
                    sent = time.monotonic()
                return sent

            sent = anyio.run(three_calls_then_sigterm)
            status = process.wait(timeout=30)
            took = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
        errors.seek(0)
        log = errors.read()
    assert status == 0 and took < 4.0, (status, took)
    assert len(answers) == 3
    for answer in answers:
        assert answer.status_code == 200 and "shutting down" in answer.text and '"isError":true' in answer.text
    assert "Traceback" not in log and "3 calls still waiting after 1 s" in log


def stdio_server(fake: fa.FakeAutoGrab, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vin_mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url, **env),
    )


@pytest.mark.parametrize(("latency", "outcome"), [(5.0, "shutting down"), (0.5, "Polo")], ids=["slow", "quick"])
def test_sigterm_on_stdio_answers_every_call_then_exits_0(fake: fa.FakeAutoGrab, latency: float, outcome: str) -> None:
    fake.latency = latency
    process = stdio_server(fake, AUTOGRAB_TIMEOUT="10", VIN_MCP_SHUTDOWN_SECONDS="1.5")
    assert process.stdin and process.stdout
    vins = [fa.eu_vin(7_200 + n) for n in range(3)]
    for _n, vin in enumerate(vins):
        fake.script("search", vin, fa.Reply(body=fa.match_body(vin, fa.vehicle())))
    for line in [*STDIO_INITIALIZE, *(call(10 + n, "lookup_vin", vin=vin) for n, vin in enumerate(vins))]:
        process.stdin.write(line + "\n")
    process.stdin.flush()
    deadline = time.monotonic() + 20
    while len(fake.calls()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=30)
    took = time.monotonic() - sent
    answers = [json.loads(line) for line in process.stdout.read().splitlines()]
    stderr = process.stderr.read() if process.stderr else ""
    results = {a["id"]: a["result"] for a in answers if a.get("id", 0) >= 10}
    assert status == 0 and took < 3.5 and set(results) == {10, 11, 12}, (status, took, answers)
    for result in results.values():
        assert outcome in result["content"][0]["text"]
        assert result.get("isError", False) == (outcome == "shutting down")
    assert "Traceback" not in stderr


# --- 4. Authentication schemes and clock skew agree ---------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_static_token_scheme_is_case_insensitive(settings: Settings, scheme: str) -> None:
    with serving(settings, HttpSettings(token=TOKEN)) as base:
        answer = httpx.post(
            f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"{scheme} {TOKEN}"}
        )
        wrong = httpx.post(f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Basic {TOKEN}"})
    assert answer.status_code == 200 and wrong.status_code == 401


async def test_a_token_30_s_past_exp_works_over_http_as_documented(fake: fa.FakeAutoGrab) -> None:
    port = free_port()
    issuer = Issuer(audience=f"http://127.0.0.1:{port}/mcp").start()
    try:
        token = issuer.mint(exp=int(time.time()) - 30)
        with oauth_server(issuer, port, fake) as base:
            http_client = httpx2.AsyncClient(headers={"Authorization": f"bearer {token}"}, timeout=30)
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http_client)) as client:
                result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
            too_old = issuer.mint(exp=int(time.time()) - 120)
            async with httpx.AsyncClient() as plain:
                refused = await plain.post(
                    f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {too_old}"}
                )
    finally:
        issuer.stop()
    assert not result.is_error and refused.status_code == 401


async def test_a_client_whose_sessions_are_all_busy_is_refused_its_next(
    fake: fa.FakeAutoGrab, settings: Settings
) -> None:
    fake.latency = 1.0
    with serving(settings, HttpSettings(max_sessions=10, max_sessions_per_client=1)) as base:
        url = f"{base}/mcp"
        async with from_address("127.0.0.9") as busy, anyio.create_task_group() as tg:
            session = (await open_session(busy, url)).headers["mcp-session-id"]
            tg.start_soon(call_tool, busy, url, session, fa.eu_vin(7_300))
            while not fake.calls():  # noqa: ASYNC110 - the fake runs in a thread: polled
                await anyio.sleep(0.02)
            refused = await open_session(busy, url)
    assert refused.status_code == 429 and "already has 1 sessions in use" in refused.json()["error"]["message"]


async def test_a_call_arriving_after_sigterm_is_answered_shutting_down(
    fake: fa.FakeAutoGrab, settings: Settings
) -> None:
    from mcp import Client as InMemory

    from vin_mcp.mcp_server.server import create_server

    server = create_server(settings)
    async with InMemory(server) as client:
        assert server.service is not None
        server.service.begin_shutdown()
        result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
    assert result.is_error and "shutting down and takes no new calls" in result.content[0].text  # type: ignore[union-attr]
    assert fake.calls() == []
