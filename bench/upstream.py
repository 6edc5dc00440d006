"""Billed calls: 100 identical lookups, concurrent and one after another, with and without the cache."""

from __future__ import annotations

import anyio
from mcp import Client

from bench.common import (
    Row,
    settings_for,
)
from tests import fake_autograb as fa
from vin_mcp.mcp_server.server import create_server
from vin_mcp.settings import Settings


async def measure_upstream_calls(fake: fa.FakeAutoGrab) -> Row:
    async def hundred(settings: Settings, concurrent: bool) -> int:
        fake.reset()
        fake.latency = 0.05  # long enough for all 100 to be in flight together
        async with Client(create_server(settings)) as client:
            if concurrent:
                async with anyio.create_task_group() as group:
                    for _ in range(100):
                        group.start_soon(client.call_tool, "lookup_vin", {"vin": fa.POLO})
            else:
                for _ in range(100):
                    await client.call_tool("lookup_vin", {"vin": fa.POLO})
        fake.latency = 0.0
        return len(fake.calls(fa.POLO))

    concurrent = await hundred(settings_for(fake), concurrent=True)
    sequential = await hundred(settings_for(fake), concurrent=False)
    uncached = await hundred(settings_for(fake, cache_ttl=0), concurrent=False)
    return Row(
        "upstream (billed) calls for 100 identical lookups",
        f"{concurrent} concurrent, {sequential} one after another",
        f"cache off (VIN_MCP_CACHE_TTL=0), one after another: {uncached}",
        "exactly 1",
        concurrent == 1 and sequential == 1,
    )
