"""Per-call overhead over stdio: vin-mcp's lookups and the bare echo, interleaved, beside the fake's own latency."""

from __future__ import annotations

import socket
import sys
import time
from typing import Any

from mcp import Client, StdioServerParameters

from bench.common import (
    ROOT,
    Row,
    Sizes,
    env_for,
    median,
    p95,
)
from tests import fake_autograb as fa


async def round_trips(client: Client, tool: str, arguments: dict[str, Any], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        result = await client.call_tool(tool, arguments)
        times.append(time.perf_counter() - started)
        assert not result.is_error, result
    return times


class RawGet:
    """The fake's own latency: the same request over a kept-alive raw socket, no HTTP library at all."""

    def __init__(self, fake: fa.FakeAutoGrab) -> None:
        host, port = fake.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = (
            f"GET /v2/vehicles/vins/{fa.POLO}?region=au HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"ApiKey: {fa.API_KEY}\r\nAccept-Encoding: identity\r\n\r\n"
        ).encode()

    def __call__(self) -> float:
        started = time.perf_counter()
        self.sock.sendall(self.request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(
            next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1]
        )
        while len(body) < length:
            body += self.sock.recv(65536)
        elapsed = time.perf_counter() - started
        assert head.startswith(b"HTTP/1.1 200"), head
        return elapsed

    def close(self) -> None:
        self.sock.close()


async def timed(client: Client, tool: str, arguments: dict[str, Any]) -> float:
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    elapsed = time.perf_counter() - started
    assert not result.is_error, result
    return elapsed


async def measure_call_overhead(fake: fa.FakeAutoGrab, sizes: Sizes) -> list[Row]:
    """vin-mcp (uncached and cached), the bare echo server and the raw GET, one of each per round, interleaved,
    so a slow moment of the machine falls on all of them alike."""
    uncached = StdioServerParameters(
        command=sys.executable, args=["-m", "vin_mcp"], env=env_for(fake, VIN_MCP_CACHE_TTL="0"), cwd=str(ROOT)
    )
    cached_server = StdioServerParameters(
        command=sys.executable, args=["-m", "vin_mcp"], env=env_for(fake), cwd=str(ROOT)
    )
    bare = StdioServerParameters(command=sys.executable, args=["-m", "bench.bare_server"], cwd=str(ROOT))
    lookup, echo_args = {"vin": fa.POLO}, {"text": "x" * 17}
    lookups: list[float] = []
    cached: list[float] = []
    echoes: list[float] = []
    raw: list[float] = []
    raw_get = RawGet(fake)
    try:
        async with Client(uncached) as vin, Client(cached_server) as warm_vin, Client(bare) as echo_server:
            for round_ in range(max(5, sizes.calls // 10) + sizes.calls):
                measured = (
                    await timed(vin, "lookup_vin", lookup),
                    raw_get(),
                    await timed(echo_server, "echo", echo_args),
                    await timed(warm_vin, "lookup_vin", lookup),
                )
                if round_ >= max(5, sizes.calls // 10):  # the first rounds warm every path up
                    for series, value in zip((lookups, raw, echoes, cached), measured, strict=True):
                        series.append(value)
    finally:
        raw_get.close()
    ratio = (median(lookups) - median(raw)) / median(echoes)
    cached_ratio = median(cached) / median(echoes)
    echo = f"bare echo {median(echoes) * 1000:.2f} ms median, {p95(echoes) * 1000:.2f} ms p95"
    return [
        Row(
            f"lookup_vin overhead, stdio, uncached ({sizes.calls} interleaved rounds): "
            "(round trip − the fake's raw GET) ÷ echo round trip",
            f"{median(lookups) * 1000:.2f} ms median round trip, {p95(lookups) * 1000:.2f} ms p95, "
            f"raw GET {median(raw) * 1000:.2f} ms: {ratio:.2f}×",
            echo,
            "≤ 2.0×",
            ratio <= 2.0,
            timed=True,
        ),
        Row(
            f"lookup_vin from the cache, stdio ({sizes.calls} interleaved rounds)",
            f"{median(cached) * 1000:.2f} ms median ({cached_ratio:.2f}×), {p95(cached) * 1000:.2f} ms p95",
            echo,
            "(no target)",
            None,
        ),
    ]
