"""Never paying twice: a TTL cache bounded in bytes, with single-flight for concurrent identical calls.

Answers are kept as compact JSON of the condensed answer model (cleaned, capped, no unknown vendor
fields), so an entry's size is its byte length and the whole cache is bounded in bytes as well as in
entries. A paid request belongs to the server, not to the caller: each fetch runs in the service's
task group, so it completes and its answer is cached even if every caller waiting on it has gone.

With a ``SharedAnswers`` store (Redis, for replicas) a local miss asks the store, and one replica at a
time holds the key's lock, renewing it while it pays; the others poll for its answer until the lock goes (its
holder finished without one, or died and the lock expired), then try the lock themselves, and never wait
longer than the store's ``wait_seconds`` (the call budget) in all. When the store
fails, the call goes on as if there were none.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import anyio
from anyio.abc import TaskGroup
from pydantic import BaseModel

from vin_mcp.errors import ServiceUnavailableError

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
# Default bound on the bytes of all cached answers together (each entry is also capped by the
# payload caps in ``upstream``).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


# Followers poll the store for the lock holder's answer, from every 20 ms up to every 250 ms.
FIRST_POLL_SECONDS = 0.02
MAX_POLL_SECONDS = 0.25


class StoreDown(Exception):
    """The shared store did not answer in time (or at all): carry on without it."""


@dataclass(frozen=True)
class Entry:
    fetched_at: float  # wall-clock seconds
    data: bytes


class SharedAnswers(Protocol):
    """What the cache needs of a store shared by replicas; every method may raise ``StoreDown``."""

    wait_seconds: float  # the longest a replica waits for another's answer
    renew_seconds: float  # how often the paying replica renews its lock

    async def get(self, key: str) -> Entry | None: ...

    async def poll(self, key: str) -> tuple[Entry | None, bool]: ...

    async def put(self, key: str, entry: Entry, ttl: float) -> None: ...

    async def lock(self, key: str) -> str | None: ...

    async def renew(self, key: str, token: str) -> None: ...

    async def unlock(self, key: str, token: str) -> None: ...


@dataclass(frozen=True)
class Cached(Generic[M]):
    value: M  # a fresh copy for each caller: safe to change
    fetched_at: float  # wall-clock seconds, for telling the user how old an answer is
    from_cache: bool  # False only for the caller whose call paid for it


@dataclass
class _Flight(Generic[M]):
    done: anyio.Event = field(default_factory=anyio.Event)
    data: bytes | None = None
    fetched_at: float = 0.0
    error: Exception | None = None
    # The answer as fetched when this process paid for it (None: from the shared store); handed to the caller
    # that paid, while the others get copies.
    value: M | None = None


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
        max_entry_bytes: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        shared: SharedAnswers | None = None,
    ) -> None:
        self._shared = shared
        self._model = model
        self._task_group = task_group
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        # No single answer may weigh more than this (the payload caps keep every real one far below it).
        self._max_entry_bytes = min(max_bytes, max_entry_bytes or max_bytes)
        self._ttl_for = ttl_for
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._entries: OrderedDict[Hashable, tuple[float, float, bytes]] = OrderedDict()
        self._flights: dict[Hashable, _Flight[M]] = {}
        self.bytes_used = 0

    def __len__(self) -> int:
        return len(self._entries)

    def minutes_old(self, cached: Cached[M]) -> int | None:
        """How old a cached answer is, in whole minutes; None for the call that paid for it."""
        if not cached.from_cache:
            return None
        return max(0, int((self._wall_clock() - cached.fetched_at) // 60))

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

    async def find(self, key: Hashable) -> Cached[M] | None:
        """The answer for ``key`` if this process or the shared store has it; never fetches (never pays)."""
        cached = self.peek(key)
        if cached is not None or self._shared is None:
            return cached
        try:
            entry = await self._shared.get(_store_key(key))
        except StoreDown:
            return None
        return None if entry is None else Cached(self._model.model_validate_json(entry.data), entry.fetched_at, True)

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
        if paid_here and flight.value is not None:
            # Nothing else holds this object (the cache keeps bytes): no copy needed for the caller that paid.
            return Cached(flight.value, flight.fetched_at, from_cache=False)
        return Cached(self._model.model_validate_json(flight.data), flight.fetched_at, from_cache=True)

    async def _fly(self, key: Hashable, fetch: Callable[[], Awaitable[M]], flight: _Flight[M]) -> None:
        try:
            if self._shared is not None:
                entry, value = await self._through_store(self._shared, _store_key(key), fetch)
            else:
                value = await fetch()
                entry = self._entry(value)
            flight.data, flight.fetched_at, flight.value = entry.data, entry.fetched_at, value
            self._store(key, value if value is not None else self._model.model_validate_json(entry.data), flight)
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

    async def _through_store(
        self, store: SharedAnswers, key: str, fetch: Callable[[], Awaitable[M]]
    ) -> tuple[Entry, M | None]:
        """The answer from the store, or paid for here under the key's lock: (entry, the value if paid here)."""
        give_up_at = self._monotonic() + store.wait_seconds
        while True:
            try:
                entry = await store.get(key)
                if entry is not None:
                    return entry, None
                token = await store.lock(key)
            except StoreDown:
                break
            if token is not None:
                return await self._pay_under_lock(store, key, token, fetch)
            # Another replica is paying: wait for its answer, or for its lock to go.
            wait = FIRST_POLL_SECONDS
            try:
                while self._monotonic() < give_up_at:
                    await anyio.sleep(wait)
                    wait = min(wait * 1.5, MAX_POLL_SECONDS)
                    entry, locked = await store.poll(key)
                    if entry is not None:
                        return entry, None
                    if not locked:
                        break
            except StoreDown:
                break
            if self._monotonic() >= give_up_at:
                break
        value = await fetch()
        return self._entry(value), value

    async def _pay_under_lock(
        self, store: SharedAnswers, key: str, token: str, fetch: Callable[[], Awaitable[M]]
    ) -> tuple[Entry, M | None]:
        try:
            try:
                # The previous holder may have stored the answer between our look and our lock.
                entry = await store.get(key)
            except StoreDown:
                entry = None
            if entry is not None:
                return entry, None
            failure: Exception | None = None
            async with anyio.create_task_group() as renewing:
                renewing.start_soon(self._keep_lock, store, key, token)
                try:
                    value = await fetch()
                except Exception as exc:  # raised below as it is, not wrapped in the task group's ExceptionGroup
                    failure = exc
                finally:
                    renewing.cancel_scope.cancel()
            if failure is not None:
                raise failure
            entry = self._entry(value)
            ttl = self._ttl_for(value)
            if ttl > 0 and self._fits(entry.data):
                with contextlib.suppress(StoreDown):
                    await store.put(key, entry, ttl)
            return entry, value
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(StoreDown):
                await store.unlock(key, token)

    @staticmethod
    async def _keep_lock(store: SharedAnswers, key: str, token: str) -> None:
        """Renews the lock while this replica pays, so it can be short: a replica that dies loses it soon."""
        while True:
            await anyio.sleep(store.renew_seconds)
            with contextlib.suppress(StoreDown):
                await store.renew(key, token)

    def _entry(self, value: M) -> Entry:
        return Entry(self._wall_clock(), value.model_dump_json(exclude_defaults=True).encode())

    def _store(self, key: Hashable, value: M, flight: _Flight[M]) -> None:
        ttl = self._ttl_for(value) - max(0.0, self._wall_clock() - flight.fetched_at)
        assert flight.data is not None
        if ttl <= 0 or not self._fits(flight.data):
            return
        self._drop(key)
        self._entries[key] = (self._monotonic() + ttl, flight.fetched_at, flight.data)
        self.bytes_used += len(flight.data)
        while len(self._entries) > self._max_entries or self.bytes_used > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _fits(self, data: bytes) -> bool:
        if len(data) <= self._max_entry_bytes:
            return True
        logger.warning(
            "An answer of %d KiB was not cached (the cap is %d KiB)", len(data) // 1024, self._max_entry_bytes // 1024
        )
        return False

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes_used -= len(entry[2])


def _store_key(key: Hashable) -> str:
    """The store's name for a cache key: its parts joined (VINs and region codes hold no colon)."""
    parts = key if isinstance(key, tuple) else (key,)
    return ":".join(str(part).lower() if isinstance(part, bool) else str(part) for part in parts)
