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
from bench.pipe import Pipe
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


def blocks(values: list[float], count: int = 5) -> list[list[float]]:
    """``values`` cut into ``count`` runs one after another, for a median per run."""
    size = max(1, len(values) // count)
    return [values[i : i + size] for i in range(0, size * count, size) if values[i : i + size]]


def overhead(lookups: list[float], raw: list[float], echoes: list[float]) -> tuple[float, float, float]:
    """(round trip − raw GET) ÷ echo: over the whole series, and the least and most of five runs of it."""

    def ratio(a: list[float], b: list[float], c: list[float]) -> float:
        return (median(a) - median(b)) / median(c)

    per_run = [ratio(*parts) for parts in zip(blocks(lookups), blocks(raw), blocks(echoes), strict=True)]
    return ratio(lookups, raw, echoes), min(per_run), max(per_run)


async def measure_call_overhead(fake: fa.FakeAutoGrab, sizes: Sizes) -> list[Row]:
    """vin-mcp (uncached and cached), the bare echo server and the raw GET, one of each per round, interleaved,
    so a slow moment of the machine falls on all of them alike; through the SDK's client and a thin pipe."""
    env_uncached = env_for(fake, VIN_MCP_CACHE_TTL="0")
    uncached = StdioServerParameters(command=sys.executable, args=["-m", "vin_mcp"], env=env_uncached, cwd=str(ROOT))
    cached_server = StdioServerParameters(
        command=sys.executable, args=["-m", "vin_mcp"], env=env_for(fake), cwd=str(ROOT)
    )
    bare = StdioServerParameters(command=sys.executable, args=["-m", "bench.bare_server"], cwd=str(ROOT))
    lookup, echo_args = {"vin": fa.POLO}, {"text": "x" * 17}
    series: dict[str, list[float]] = {name: [] for name in ("lookup", "raw", "echo", "cached", "pipe", "pipe_echo")}
    raw_get = RawGet(fake)
    warm = max(5, sizes.calls // 10)
    try:
        async with Client(uncached) as vin, Client(cached_server) as warm_vin, Client(bare) as echo_server:
            with (
                Pipe([sys.executable, "-m", "vin_mcp"], env_uncached) as pipe,
                Pipe([sys.executable, "-m", "bench.bare_server"], env_for(fake)) as pipe_echo,
            ):
                for round_ in range(warm + sizes.calls):
                    measured = {
                        "lookup": await timed(vin, "lookup_vin", lookup),
                        "raw": raw_get(),
                        "echo": await timed(echo_server, "echo", echo_args),
                        "cached": await timed(warm_vin, "lookup_vin", lookup),
                        "pipe": pipe.timed_call("lookup_vin", lookup),
                        "pipe_echo": pipe_echo.timed_call("echo", echo_args),
                    }
                    if round_ >= warm:  # the first rounds warm every path up
                        for name, value in measured.items():
                            series[name].append(value)
    finally:
        raw_get.close()
    lookups, raw, echoes = series["lookup"], series["raw"], series["echo"]
    ratio, low, high = overhead(lookups, raw, echoes)
    thin, thin_low, thin_high = overhead(series["pipe"], raw, series["pipe_echo"])
    cached_ratio = median(series["cached"]) / median(echoes)
    echo = f"bare echo {median(echoes) * 1000:.2f} ms median, {p95(echoes) * 1000:.2f} ms p95"
    return [
        Row(
            f"lookup_vin overhead, stdio, uncached, SDK client ({sizes.calls} interleaved rounds): "
            "(round trip − the fake's raw GET) ÷ echo round trip",
            f"{median(lookups) * 1000:.2f} ms median round trip, {p95(lookups) * 1000:.2f} ms p95, "
            f"raw GET {median(raw) * 1000:.2f} ms: {ratio:.2f}× (five runs: {low:.2f}–{high:.2f}×)",
            echo,
            "≤ 1.6×",
            ratio <= 1.6,
            timed=True,
        ),
        Row(
            "the same through a thin pipe client (JSON lines, no SDK client)",
            f"{median(series['pipe']) * 1000:.2f} ms median round trip: {thin:.2f}× "
            f"(five runs: {thin_low:.2f}–{thin_high:.2f}×)",
            f"bare echo through the pipe {median(series['pipe_echo']) * 1000:.2f} ms median",
            "≤ 1.9×",
            thin <= 1.9,
            timed=True,
        ),
        Row(
            f"lookup_vin from the cache, stdio ({sizes.calls} interleaved rounds)",
            f"{median(series['cached']) * 1000:.2f} ms median ({cached_ratio:.2f}×), "
            f"{p95(series['cached']) * 1000:.2f} ms p95",
            echo,
            "(no target)",
            None,
        ),
    ]
