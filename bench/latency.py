"""Per-call overhead over stdio: vin-mcp's lookups and the bare echo, beside the fake's own latency."""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx
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


def fake_latency(fake: fa.FakeAutoGrab, count: int) -> list[float]:
    """The fake's own round trip for the same request, over a kept-alive connection like the server's."""
    times = []
    with httpx.Client(headers={"ApiKey": fa.API_KEY}) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get(f"{fake.url}/v2/vehicles/vins/{fa.POLO}", params={"region": "au"}).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


async def fake_latency_async(fake: fa.FakeAutoGrab, count: int) -> list[float]:
    """The same, through httpx's async client as the server uses it: its own cost is part of any async server."""
    times = []
    async with httpx.AsyncClient(headers={"ApiKey": fa.API_KEY}) as http:
        for _ in range(count):
            started = time.perf_counter()
            (await http.get(f"{fake.url}/v2/vehicles/vins/{fa.POLO}", params={"region": "au"})).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


async def measure_call_overhead(fake: fa.FakeAutoGrab, sizes: Sizes) -> list[Row]:
    uncached = StdioServerParameters(
        command=sys.executable, args=["-m", "vin_mcp"], env=env_for(fake, VIN_MCP_CACHE_TTL="0"), cwd=str(ROOT)
    )
    bare = StdioServerParameters(command=sys.executable, args=["-m", "bench.bare_server"], cwd=str(ROOT))
    warm = max(5, sizes.calls // 10)
    async with Client(uncached) as client:
        await round_trips(client, "lookup_vin", {"vin": fa.POLO}, warm)
        lookups = await round_trips(client, "lookup_vin", {"vin": fa.POLO}, sizes.calls)
    async with Client(StdioServerParameters(**{**uncached.model_dump(), "env": env_for(fake)})) as client:
        await round_trips(client, "lookup_vin", {"vin": fa.POLO}, warm)
        cached = await round_trips(client, "lookup_vin", {"vin": fa.POLO}, sizes.calls)
    async with Client(bare) as client:
        await round_trips(client, "echo", {"text": "x" * 17}, warm)
        echoes = await round_trips(client, "echo", {"text": "x" * 17}, sizes.calls)
    upstream = median(fake_latency(fake, sizes.calls))
    upstream_async = median(await fake_latency_async(fake, sizes.calls))
    overhead = [t - upstream for t in lookups]
    ratio = median(overhead) / median(echoes)
    async_ratio = (median(lookups) - upstream_async) / median(echoes)
    cached_ratio = median(cached) / median(echoes)
    echo = f"bare echo {median(echoes) * 1000:.2f} ms median, {p95(echoes) * 1000:.2f} ms p95"
    return [
        Row(
            f"lookup_vin round trip minus the fake's own {upstream * 1000:.2f} ms, stdio ({sizes.calls} calls)",
            f"{median(overhead) * 1000:.2f} ms median ({ratio:.2f}×), {p95(overhead) * 1000:.2f} ms p95; "
            f"{async_ratio:.2f}× net of the fake as an async httpx client sees it ({upstream_async * 1000:.2f} ms)",
            echo,
            "≤ 1.3×",
            ratio <= 1.3,
            timed=True,
        ),
        Row(
            f"lookup_vin from the cache, stdio ({sizes.calls} calls)",
            f"{median(cached) * 1000:.2f} ms median ({cached_ratio:.2f}×), {p95(cached) * 1000:.2f} ms p95",
            echo,
            "(no target)",
            None,
        ),
    ]
