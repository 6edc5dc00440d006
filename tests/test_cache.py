"""The answer cache: TTL, LRU bound, failures not kept, single-flight, wider answers reused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from pydantic import BaseModel

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from vin_mcp.cache import Cached, SingleFlightCache
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Answer(BaseModel):
    v: str


@asynccontextmanager
async def make_cache(
    clock: Clock, max_entries: int = 3, ttl: float = 60.0, max_bytes: int = 1 << 20
) -> AsyncIterator[SingleFlightCache[Answer]]:
    async with anyio.create_task_group() as tasks:
        yield SingleFlightCache(
            Answer,
            tasks,
            max_entries=max_entries,
            ttl_for=lambda answer: 5.0 if answer.v == "miss" else ttl,
            max_bytes=max_bytes,
            monotonic=clock,
        )


def answer(value: str) -> Callable[[], Awaitable[Answer]]:
    async def fetch() -> Answer:
        return Answer(v=value)

    return fetch


async def test_ttl_expiry_and_per_value_ttl() -> None:
    clock, fetched = Clock(), []

    def fetch(value: str) -> Callable[[], Awaitable[Answer]]:
        async def go() -> Answer:
            fetched.append(value)
            return Answer(v=value)

        return go

    async with make_cache(clock) as cache:
        assert (await cache.get("a", fetch("hit"))).from_cache is False
        assert (await cache.get("a", fetch("hit"))).from_cache is True
        await cache.get("b", fetch("miss"))
        clock.now += 10  # past the miss TTL, within the hit TTL
        assert (await cache.get("a", fetch("hit"))).from_cache is True
        assert (await cache.get("b", fetch("miss"))).from_cache is False
        clock.now += 61
        assert (await cache.get("a", fetch("hit"))).from_cache is False
    assert fetched == ["hit", "miss", "miss", "hit"]


async def test_a_cached_answer_says_how_many_whole_minutes_old_it_is() -> None:
    clock = Clock()
    async with anyio.create_task_group() as tasks:
        cache = SingleFlightCache(
            Answer, tasks, max_entries=3, ttl_for=lambda _: 3600.0, monotonic=clock, wall_clock=clock
        )
        paid = await cache.get("a", answer("hit"))
        assert cache.minutes_old(paid) is None  # the call that paid is not "from the cache"
        assert cache.minutes_old(await cache.get("a", answer("hit"))) == 0
        clock.now += 299  # 4 min 59 s
        assert cache.minutes_old(await cache.get("a", answer("hit"))) == 4
        clock.now += 1
        assert cache.minutes_old(await cache.get("a", answer("hit"))) == 5


async def test_lru_bound() -> None:
    async with make_cache(Clock(), max_entries=2) as cache:
        for key in ("a", "b", "a", "c"):  # touching "a" makes "b" the least recently used
            await cache.get(key, answer("v"))
        assert len(cache) == 2
        assert cache.peek("a") is not None and cache.peek("c") is not None and cache.peek("b") is None


async def test_bounded_in_bytes_and_kept_as_compact_json() -> None:
    async with make_cache(Clock(), max_entries=100, max_bytes=100) as cache:
        for key in "abcdef":
            await cache.get(key, answer(key * 20))  # {"v":"aaaa…"} is 28 bytes
        assert cache.entry_bytes("f") == len(b'{"v":""}') + 20
        assert cache.bytes_used <= 100 and len(cache) == 3
        assert cache.peek("a") is None and cache.peek("f") == cache.peek("f")
        served = cache.peek("f")
        assert served is not None and served.value == Answer(v="f" * 20)
        served.value.v = "changed by one caller"
        assert cache.peek("f").value.v == "f" * 20  # type: ignore[union-attr]  # each caller gets a copy


async def test_the_caller_that_paid_and_its_waiters_hold_separate_answers() -> None:
    release = anyio.Event()

    async def slow() -> Answer:
        await release.wait()
        return Answer(v="paid for")

    got: list[Cached[Answer]] = []
    async with make_cache(Clock()) as cache, anyio.create_task_group() as callers:
        for _ in range(3):
            callers.start_soon(lambda: _append(got, cache.get("k", slow)))
        await anyio.wait_all_tasks_blocked()
        release.set()
    paid = [cached for cached in got if not cached.from_cache]
    assert len(got) == 3 and len(paid) == 1
    paid[0].value.v = "changed by the caller that paid"
    assert [cached.value.v for cached in got if cached.from_cache] == ["paid for", "paid for"]
    assert cache.peek("k").value.v == "paid for"  # type: ignore[union-attr]


async def _append(into: list[Cached[Answer]], getting: Awaitable[Cached[Answer]]) -> None:
    into.append(await getting)


async def test_zero_ttl_keeps_nothing() -> None:
    async with make_cache(Clock(), ttl=0) as cache:
        await cache.get("a", answer("v"))
        assert len(cache) == 0


async def test_failures_are_shared_but_not_cached() -> None:
    attempts = 0

    async def failing() -> Answer:
        nonlocal attempts
        attempts += 1
        await anyio.sleep(0.05)
        raise RuntimeError("upstream down")

    errors: list[BaseException] = []
    async with make_cache(Clock()) as cache:

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


async def test_a_paid_fetch_outlives_every_caller_who_gave_up() -> None:
    """Callers cancelled mid-fetch do not cancel it: it completes, is cached, and the next caller pays nothing."""
    started, fetches = anyio.Event(), []

    async def slow() -> Answer:
        fetches.append(1)
        started.set()
        await anyio.sleep(0.2)
        return Answer(v="paid for")

    async with make_cache(Clock()) as cache:
        with anyio.move_on_after(0.05) as impatient:
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(cache.get, "a", slow)
        assert impatient.cancelled_caught and started.is_set() and cache.peek("a") is None
        await anyio.sleep(0.3)
        later = cache.peek("a")
        assert later is not None and later.value.v == "paid for"
        assert (await cache.get("a", slow)).from_cache is True
    assert fetches == [1]


async def test_asking_for_more_is_never_served_from_less(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        await client.call_tool("lookup_vin", {"vin": fa.EXTENDED})
        wider = await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "include_extended_data": True})
        narrower = await client.call_tool("lookup_vin", {"vin": fa.EXTENDED})
        await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "prefer_more_results": True})
        await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "region": "nz"})
    assert wider.structured_content["registration_record"]["make_code"] == "VOLKS"
    assert "cached_minutes_ago" in narrower.structured_content
    assert "registration_record" not in narrower.structured_content
    assert "registration_record_disagrees" not in narrower.structured_content
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
