"""Never paying twice: a bounded TTL cache with single-flight for concurrent identical calls."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

V = TypeVar("V")


@dataclass(frozen=True)
class Cached(Generic[V]):
    value: V
    fetched_at: float  # wall-clock seconds, for telling the user how old an answer is
    from_cache: bool


@dataclass
class _Flight(Generic[V]):
    done: anyio.Event = field(default_factory=anyio.Event)
    result: Cached[V] | None = None
    error: BaseException | None = None


class SingleFlightCache(Generic[V]):
    """LRU cache of successful answers; concurrent misses for one key share one fetch.

    ``ttl_for(value)`` gives each value its lifetime in seconds (0 = do not keep), so a miss can
    be kept for less time than a match. Exceptions are shared with the callers waiting on the
    same fetch but never cached.
    """

    def __init__(
        self,
        max_entries: int,
        ttl_for: Callable[[V], float],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_entries = max_entries
        self._ttl_for = ttl_for
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._entries: OrderedDict[Hashable, tuple[float, Cached[V]]] = OrderedDict()
        self._flights: dict[Hashable, _Flight[V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: Hashable) -> Cached[V] | None:
        """The cached answer for ``key``, marked as from the cache, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, cached = entry
        if self._monotonic() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return Cached(cached.value, cached.fetched_at, from_cache=True)

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> Cached[V]:
        while True:
            cached = self.peek(key)
            if cached is not None:
                return cached
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, fetch)
            await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.result is not None:
                return Cached(flight.result.value, flight.result.fetched_at, from_cache=True)
            # The leader was cancelled before finishing: try again, perhaps as the new leader.

    async def _lead(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> Cached[V]:
        flight: _Flight[V] = _Flight()
        self._flights[key] = flight
        try:
            value = await fetch()
            flight.result = Cached(value, self._wall_clock(), from_cache=False)
            self._store(key, flight.result)
            return flight.result
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[key]
            flight.done.set()

    def _store(self, key: Hashable, cached: Cached[V]) -> None:
        ttl = self._ttl_for(cached.value)
        if ttl <= 0:
            return
        self._entries[key] = (self._monotonic() + ttl, cached)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
