"""Replicas sharing a Redis: billed calls for 100 concurrent lookups over 3 HTTP replicas, with and without it,
and what a Redis round trip adds to a cached answer."""

from __future__ import annotations

import sys
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

import anyio
from mcp import Client
from pydantic import SecretStr

from bench.common import Row, Sizes, env_for, median, settings_for
from bench.throughput import http_process
from tests import fake_autograb as fa
from tests.redis_server import RedisServer
from vin_mcp.service import open_service

REPLICAS = 3
LOOKUPS = 100


async def billed_over_replicas(fake: fa.FakeAutoGrab, redis_url: str | None) -> int:
    """100 concurrent identical lookups spread over 3 stateless HTTP replicas: how many reached AutoGrab."""
    fake.reset()
    fake.latency = 0.3  # the first lookup of every replica is under way before any answer is back
    env = env_for(fake, VIN_MCP_HTTP_STATELESS="true", **({"VIN_MCP_REDIS_URL": redis_url} if redis_url else {}))
    command = [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0"]
    with ExitStack() as processes:
        urls = [processes.enter_context(http_process(command, env, "listening on")) for _ in range(REPLICAS)]
        async with AsyncExitStack() as clients:
            connected = [await clients.enter_async_context(Client(url)) for url in urls]
            async with anyio.create_task_group() as group:
                for n in range(LOOKUPS):
                    group.start_soon(connected[n % REPLICAS].call_tool, "lookup_vin", {"vin": fa.RICH})
    fake.latency = 0.0
    return len(fake.calls(fa.RICH))


async def cached_answer_costs(fake: fa.FakeAutoGrab, redis_url: str, rounds: int) -> tuple[float, float]:
    """(median seconds) a lookup answered from Redis after a local miss, and one from the replica's memory,
    interleaved. A local cache of one entry, asked for two VINs in turn, always misses and asks Redis."""
    via_redis = settings_for(fake, redis_url=SecretStr(redis_url), cache_size=1)
    in_memory = settings_for(fake)
    from_redis: list[float] = []
    from_memory: list[float] = []
    async with open_service(via_redis) as shared, open_service(in_memory) as local:
        for vin in (fa.RICH, fa.POLO):  # paid once, stored in Redis and in the local cache
            await shared.lookup(vin)
            await local.lookup(vin)
        for n in range(rounds):
            started = time.perf_counter()
            await shared.lookup((fa.RICH, fa.POLO)[n % 2])
            from_redis.append(time.perf_counter() - started)
            started = time.perf_counter()
            await local.lookup(fa.RICH)
            from_memory.append(time.perf_counter() - started)
    return median(from_redis), median(from_memory)


async def measure_shared_cache(fake: fa.FakeAutoGrab, sizes: Sizes) -> list[Row]:
    with tempfile.TemporaryDirectory() as directory:
        redis = RedisServer(Path(directory)).start()
        try:
            shared = await billed_over_replicas(fake, redis.url)
            alone = await billed_over_replicas(fake, None)
            redis.command("FLUSHALL")
            fake.reset()
            via_redis, in_memory = await cached_answer_costs(fake, redis.url, sizes.calls * 2)
        finally:
            redis.stop()
    return [
        Row(
            f"upstream (billed) calls for {LOOKUPS} concurrent identical lookups over {REPLICAS} HTTP replicas",
            f"{shared} with a shared Redis",
            f"each replica on its own: {alone}",
            "exactly 1",
            shared == 1,
        ),
        Row(
            f"cached lookup answered from Redis after a local miss (median of {sizes.calls * 2}, interleaved)",
            f"{via_redis * 1e6:.0f} µs (+{(via_redis - in_memory) * 1e6:.0f} µs for the Redis round trip)",
            f"from the replica's own memory {in_memory * 1e6:.0f} µs",
            "(no target)",
            None,
            timed=True,
        ),
    ]
