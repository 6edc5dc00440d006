"""Never paying twice: a TTL cache bounded in bytes, with single-flight for concurrent identical calls.

Answers are kept as compact JSON of the condensed answer model (cleaned, capped, no unknown vendor
fields), so an entry's size is its byte length and the whole cache is bounded in bytes as well as in
entries. A paid request belongs to the server, not to the caller: each fetch runs in the service's
task group, so it completes and its answer is cached even if every caller waiting on it has gone.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskGroup
from pydantic import BaseModel

from vin_mcp.errors import ServiceUnavailableError

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
# Default bound on the bytes of all cached answers together (each entry is also capped by the
# payload caps in ``upstream``).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Cached(Generic[M]):
    value: M  # a fresh copy for each caller: safe to change
    fetched_at: float  # wall-clock seconds, for telling the user how old an answer is
    from_cache: bool  # False only for the caller whose call paid for it


@dataclass
class _Flight:
    done: anyio.Event = field(default_factory=anyio.Event)
    data: bytes | None = None
    fetched_at: float = 0.0
    error: Exception | None = None


class SingleFlightCache(Generic[M]):
    """LRU cache of successful answers; concurrent misses for one key share one fetch.

    ``ttl_for(value)`` gives each answer its lifetime in seconds (0 = do not keep), so a miss can be
    kept for less time than a match. Exceptions are shared with the callers waiting on the same fetch
    but never cached.
    """

    def __init__(
        self,
        model: type[M],
        task_group: TaskGroup,
        *,
        max_entries: int,
        ttl_for: Callable[[M], float],
        max_bytes: int = DEFAULT_MAX_BYTES,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._model = model
        self._task_group = task_group
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._ttl_for = ttl_for
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._entries: OrderedDict[Hashable, tuple[float, float, bytes]] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self.bytes_used = 0

    def __len__(self) -> int:
        return len(self._entries)

    def entry_bytes(self, key: Hashable) -> int | None:
        entry = self._entries.get(key)
        return None if entry is None else len(entry[2])

    def peek(self, key: Hashable) -> Cached[M] | None:
        """The cached answer for ``key``, marked as from the cache, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, fetched_at, data = entry
        if self._monotonic() >= expires_at:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return Cached(self._model.model_validate_json(data), fetched_at, from_cache=True)

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[M]]) -> Cached[M]:
        cached = self.peek(key)
        if cached is not None:
            return cached
        flight = self._flights.get(key)
        paid_here = flight is None
        if flight is None:
            flight = self._flights[key] = _Flight()
            self._task_group.start_soon(self._fly, key, fetch, flight)
        await flight.done.wait()
        if flight.error is not None:
            raise flight.error
        assert flight.data is not None
        return Cached(self._model.model_validate_json(flight.data), flight.fetched_at, from_cache=not paid_here)

    async def _fly(self, key: Hashable, fetch: Callable[[], Awaitable[M]], flight: _Flight) -> None:
        try:
            value = await fetch()
            flight.data = value.model_dump_json(exclude_defaults=True).encode()
            flight.fetched_at = self._wall_clock()
            self._store(key, value, flight)
        except Exception as exc:  # shared with the waiting callers, who each raise it
            flight.error = exc
        except BaseException:
            flight.error = ServiceUnavailableError(
                "vin-mcp is shutting down; the answer was not received.", "Try again in a moment."
            )
            raise
        finally:
            del self._flights[key]
            flight.done.set()

    def _store(self, key: Hashable, value: M, flight: _Flight) -> None:
        ttl = self._ttl_for(value)
        assert flight.data is not None
        if ttl <= 0 or len(flight.data) > self._max_bytes:
            return
        self._drop(key)
        self._entries[key] = (self._monotonic() + ttl, flight.fetched_at, flight.data)
        self.bytes_used += len(flight.data)
        while len(self._entries) > self._max_entries or self.bytes_used > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes_used -= len(entry[2])
