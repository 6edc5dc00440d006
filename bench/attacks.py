"""Hostile clients and bodies (issue 20): what a session flood, slowloris and hostile bodies cost the others, each
beside the same measurement without the attack, in the same run."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import suppress

import anyio
import httpx

from bench.common import Row, Sizes, median, settings_for
from tests import fake_autograb as fa
from tests.test_http import INITIALIZE, serving
from tests.test_http import MCP_HEADERS as HEADERS
from vin_mcp.mcp_server.http_settings import HttpSettings
from vin_mcp.service import open_service

TRICKLERS = 200
HOSTILE_BODIES = 30


def health_ms(base: str, times: int) -> list[float]:
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        httpx.get(f"{base}/health", timeout=10)
        taken.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    return taken


def measure_slowloris(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    probes = 10 if sizes.calls < 100 else 40
    with serving(settings_for(fake), HttpSettings(header_timeout=10)) as base:
        quiet = health_ms(base, probes)
        port = int(base.rsplit(":", 1)[1])
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(TRICKLERS)]
        for sock in sockets:
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(1):
                for sock in sockets:
                    with suppress(OSError):
                        sock.sendall(b"X")

        threading.Thread(target=trickle, daemon=True).start()
        try:
            attacked = health_ms(base, probes)
        finally:
            stop.set()
            for sock in sockets:
                sock.close()
    return Row(
        f"/health beside {TRICKLERS} slowloris connections, median / max",
        f"{median(attacked):.1f} / {max(attacked):.1f} ms",
        f"{median(quiet):.1f} / {max(quiet):.1f} ms without them",
        "max < 1000 ms",
        max(attacked) < 1000,
        timed=True,
    )


async def measure_session_flood(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    floods = 300 if sizes.calls < 100 else 2_000
    http = HttpSettings()
    with serving(settings_for(fake), http) as base:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=transport, timeout=30) as flooder:
            for _ in range(floods):
                await flooder.post(f"{base}/mcp", json=INITIALIZE, headers=HEADERS)
        async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address="127.0.0.3")) as other:
            admitted = (await other.post(f"{base}/mcp", json=INITIALIZE, headers=HEADERS)).status_code
            sessions = (await other.get(f"{base}/health")).json()["sessions"]["open"]
    held = sessions - 1
    return Row(
        f"sessions one address holds after {floods} initialize (another client: HTTP {admitted})",
        str(held),
        f"{floods} without a per-client cap",
        f"<= {http.max_sessions_per_client}",
        held <= http.max_sessions_per_client and admitted == 200,
    )


async def measure_hostile_bodies(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    body = json.dumps(
        fa.match_body(fa.POLO, fa.vehicle(title="é" * 600_000, badge="\u200b" * 200_000)), ensure_ascii=False
    )
    vins = [fa.eu_vin(9_500 + n) for n in range(HOSTILE_BODIES)]
    for vin in vins:
        fake.script("search", vin, fa.Reply(body=body.replace(fa.POLO, vin).encode()))
    alone: list[float] = []
    beside: list[float] = []
    async with open_service(settings_for(fake, timeout=10.0)) as service:
        for _ in range(5):
            started = time.perf_counter()
            await service.lookup(fa.eu_vin(9_400 + len(alone)))  # uncached: a paid call each
            alone.append((time.perf_counter() - started) * 1000)

        async def ordinary() -> None:
            await anyio.sleep(0.1)
            started = time.perf_counter()
            await service.lookup(fa.POLO)
            beside.append((time.perf_counter() - started) * 1000)

        async with anyio.create_task_group() as group:
            for vin in vins:
                group.start_soon(service.lookup, vin)
            group.start_soon(ordinary)
    return Row(
        f"an uncached lookup beside {HOSTILE_BODIES} hostile 1.8 MB answers",
        f"{beside[0]:.0f} ms",
        f"{median(alone):.1f} ms alone",
        "< 1000 ms",
        beside[0] < 1000,
        timed=True,
    )
