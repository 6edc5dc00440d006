"""The answer cache: TTL, LRU bound, failures not kept, single-flight, wider answers reused."""

from __future__ import annotations

import anyio
import pytest

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from vin_mcp.cache import SingleFlightCache
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_cache(clock: Clock, max_entries: int = 3, ttl: float = 60.0) -> SingleFlightCache[str]:
    return SingleFlightCache(max_entries, lambda value: 5.0 if value == "miss" else ttl, monotonic=clock)


async def test_ttl_expiry_and_per_value_ttl() -> None:
    clock, fetched = Clock(), []

    async def fetch(value: str) -> str:
        fetched.append(value)
        return value

    cache = make_cache(clock)
    assert (await cache.get("a", lambda: fetch("hit"))).from_cache is False
    assert (await cache.get("a", lambda: fetch("hit"))).from_cache is True
    await cache.get("b", lambda: fetch("miss"))
    clock.now += 10  # past the miss TTL, within the hit TTL
    assert (await cache.get("a", lambda: fetch("hit"))).from_cache is True
    assert (await cache.get("b", lambda: fetch("miss"))).from_cache is False
    clock.now += 61
    assert (await cache.get("a", lambda: fetch("hit"))).from_cache is False
    assert fetched == ["hit", "miss", "miss", "hit"]


async def test_lru_bound() -> None:
    clock = Clock()
    cache = make_cache(clock, max_entries=2)

    async def value() -> str:
        return "v"

    for key in ("a", "b", "a", "c"):  # touching "a" makes "b" the least recently used
        await cache.get(key, value)
    assert len(cache) == 2
    assert cache.peek("a") is not None and cache.peek("c") is not None and cache.peek("b") is None


async def test_zero_ttl_keeps_nothing() -> None:
    cache = make_cache(Clock(), ttl=0)

    async def value() -> str:
        return "v"

    await cache.get("a", value)
    assert len(cache) == 0


async def test_failures_are_shared_but_not_cached() -> None:
    cache = make_cache(Clock())
    attempts = 0

    async def failing() -> str:
        nonlocal attempts
        attempts += 1
        await anyio.sleep(0.05)
        raise RuntimeError("upstream down")

    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await cache.get("a", failing)
        except RuntimeError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    assert attempts == 1 and len(errors) == 10
    with pytest.raises(RuntimeError):
        await cache.get("a", failing)
    assert attempts == 2


async def test_cancelled_leader_does_not_strand_followers() -> None:
    cache = make_cache(Clock())
    started = anyio.Event()

    async def slow() -> str:
        started.set()
        await anyio.sleep(10)
        return "never"

    async def quick() -> str:
        return "quick"

    results: list[str] = []
    async with anyio.create_task_group() as tg:
        leader_scope = anyio.CancelScope()

        async def leader() -> None:
            with leader_scope:
                await cache.get("a", slow)

        async def follower() -> None:
            results.append((await cache.get("a", quick)).value)

        tg.start_soon(leader)
        await started.wait()
        tg.start_soon(follower)
        await anyio.sleep(0.01)
        leader_scope.cancel()
    assert results == ["quick"]


async def test_asking_for_more_is_never_served_from_less(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        await client.call_tool("lookup_vin", {"vin": fa.EXTENDED})
        wider = await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "include_extended_data": True})
        narrower = await client.call_tool("lookup_vin", {"vin": fa.EXTENDED})
        await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "prefer_more_results": True})
        await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "region": "nz"})
    assert wider.structured_content["extended_data"]["make_code"] == "VOLKS"  # type: ignore[index]
    assert narrower.structured_content["provenance"]["cached"] is True  # type: ignore[index]
    assert "extended_data" not in narrower.structured_content  # type: ignore[operator]
    assert len(fake.calls(fa.EXTENDED)) == 4  # plain, extended, more candidates, other region


async def test_failures_are_not_cached_through_the_tool(fake: fa.FakeAutoGrab) -> None:
    vin = fa.FAULTS["401"]
    async with connect(make_settings(fake)) as client:
        first = await client.call_tool("lookup_vin", {"vin": vin})
        second = await client.call_tool("lookup_vin", {"vin": vin})
    assert first.is_error and second.is_error
    assert len(fake.calls(vin)) == 2


async def test_cache_can_be_disabled(fake: fa.FakeAutoGrab) -> None:
    async with connect(make_settings(fake, cache_ttl=0)) as client:
        await client.call_tool("lookup_vin", {"vin": fa.POLO})
        await client.call_tool("lookup_vin", {"vin": fa.POLO})
    assert len(fake.calls(fa.POLO)) == 2
