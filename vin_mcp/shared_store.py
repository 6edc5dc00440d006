"""The state replicas share through Redis (or Valkey): answers, who is fetching which one, and the rate-limit
window. Optional (``VIN_MCP_REDIS_URL``); this module and the ``redis`` package are imported only then.

It fails open: each operation is bounded (``OPERATION_SECONDS``) and any failure raises ``StoreDown``,
which the callers answer through the local cache and the API. An outage is logged once, as a WARNING,
and its end once; while it lasts the store is not tried more than every ``RETRY_AFTER_SECONDS``.

Every key sits under ``vin-mcp:v1:<namespace>:``, the namespace an HMAC of the AutoGrab key, so two
deployments with different keys on one Redis never read each other's billed answers; neither the key
nor a plain hash of it is ever written.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import anyio
import anyio.lowlevel
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from vin_mcp.cache import Entry, StoreDown

logger = logging.getLogger(__name__)

KEY_VERSION = "v1"
OPERATION_SECONDS = 0.1
TIMEOUT_ATTEMPTS = 2
BUSY_LAG_SECONDS = 0.01
BUSY_LIMIT_SECONDS = 1.0
CONNECT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5.0
_NAMESPACE_LABEL = b"vin-mcp/redis-namespace/v1"
# Takes the lock if it is free; answers the holder's token either way (SET NX GET needs Redis 7).
_LOCK = """
local holder = redis.call('get', KEYS[1])
if holder then return holder end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
# Deletes the lock only if it is still ours (it may have expired and been taken by another replica).
_UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
# Moves the shared window's reopening later, never earlier; the key expires when the window reopens.
_CLOSE_UNTIL = """
local current = tonumber(redis.call('get', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 0
"""

T = TypeVar("T")


State = Literal["up", "down"]


def namespace(api_key: SecretStr | None) -> str:
    """A keyed hash of the AutoGrab key: the same for every replica of one deployment, useless to anyone else."""
    secret = api_key.get_secret_value().encode() if api_key is not None else b""
    return hmac.new(secret, _NAMESPACE_LABEL, hashlib.sha256).hexdigest()[:32]


class RedisStore:
    """Answers, locks and the rate-limit window on one Redis, every call bounded and failing open."""

    def __init__(self, client: Redis, namespace: str, *, lock_seconds: float) -> None:
        self._redis = client
        self._prefix = f"vin-mcp:{KEY_VERSION}:{namespace}:"
        self.lock_seconds = lock_seconds
        self.state: State = "up"
        self._retry_at = 0.0

    @classmethod
    def from_url(
        cls, url: str, password: SecretStr | None, api_key: SecretStr | None, *, lock_seconds: float
    ) -> RedisStore:
        client = Redis.from_url(
            url,
            password=password.get_secret_value() if password is not None else None,
            # No socket_timeout: redis-py's own would raise its TimeoutError inside our bound, which a busy event
            # loop must not turn into an outage (see _bounded); every operation runs under fail_after instead.
            socket_connect_timeout=CONNECT_SECONDS,
            # One bounded try per operation: a retry would multiply the time a dead Redis costs a call.
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
        )
        return cls(client, namespace(api_key), lock_seconds=lock_seconds)

    def __repr__(self) -> str:
        return f"RedisStore(state={self.state!r})"

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def connect(self) -> None:
        """Open the first connection at start-up (connecting and the handshake take several round trips, more
        than one operation's bound), and say at once if Redis is not there. Never raises."""
        try:
            with anyio.fail_after(CONNECT_SECONDS):
                await self._redis.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            self._went_down(exc)

    async def get(self, key: str) -> Entry | None:
        raw = await self._run(lambda: self._redis.get(self._prefix + "answer:" + key))
        return _entry(raw)

    async def poll(self, key: str) -> tuple[Entry | None, bool]:
        """(the answer if stored, whether someone holds the key's lock), in one round trip."""
        raw, lock = await self._run(
            lambda: self._redis.mget(self._prefix + "answer:" + key, self._prefix + "lock:" + key)
        )
        return _entry(raw), lock is not None

    async def put(self, key: str, entry: Entry, ttl: float) -> None:
        value = f"{entry.fetched_at!r}\n".encode() + entry.data
        await self._run(lambda: self._redis.set(self._prefix + "answer:" + key, value, px=max(1, int(ttl * 1000))))

    async def lock(self, key: str) -> str | None:
        """A token if this replica now fetches ``key``; None if another one is already fetching it."""
        token = secrets.token_hex(8)
        ms = int(self.lock_seconds * 1000)
        # The holder's token comes back, so a retried try that had already gone through still finds it ours.
        held = await self._run(lambda: self._redis.eval(_LOCK, 1, self._prefix + "lock:" + key, token, ms))
        return token if held == token.encode() else None

    async def unlock(self, key: str, token: str) -> None:
        await self._run(lambda: self._redis.eval(_UNLOCK, 1, self._prefix + "lock:" + key, token))

    async def window_reopens_at(self) -> float | None:
        """When the shared rate-limit window reopens (wall-clock seconds), if a replica closed it."""
        raw = await self._run(lambda: self._redis.get(self._prefix + "window"))
        try:
            value = float(raw) / 1000 if raw is not None else None
        except ValueError:
            return None
        return value if value is not None and math.isfinite(value) else None

    async def close_window_until(self, reopens_at: float) -> None:
        ms = int(reopens_at * 1000)
        ttl = max(1, int((reopens_at - time.time()) * 1000))
        await self._run(lambda: self._redis.eval(_CLOSE_UNTIL, 1, self._prefix + "window", ms, ttl))

    async def _run(self, operation: Callable[[], Awaitable[T]]) -> T:
        if self.state == "down" and time.monotonic() < self._retry_at:
            raise StoreDown
        try:
            result = await self._bounded(operation)
        except (RedisError, OSError, TimeoutError) as exc:
            self._went_down(exc)
            raise StoreDown from None
        if self.state == "down":
            self.state = "up"
            logger.warning("Redis is reachable again: the shared cache is back in use")
        return result

    def _went_down(self, exc: BaseException) -> None:
        """One WARNING per outage; the store is left alone for RETRY_AFTER_SECONDS."""
        self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS
        if self.state == "up":
            self.state = "down"
            logger.warning(
                "Redis is unreachable (%s): answering from the local cache and AutoGrab until it is back",
                type(exc).__name__,
            )

    @staticmethod
    async def _bounded(operation: Callable[[], Awaitable[T]]) -> T:
        """The operation within OPERATION_SECONDS, tried again after a timeout: TIMEOUT_ATTEMPTS tries that ran
        on an idle event loop fail it. A try that timed out while the loop was busy (a burst of requests can
        hold it past the bound while Redis has long answered) does not count, up to BUSY_LIMIT_SECONDS in
        all. A Redis that is really gone fails every try, and is then left alone for RETRY_AFTER_SECONDS."""
        give_up_at = time.monotonic() + BUSY_LIMIT_SECONDS
        counted = 0
        while True:
            try:
                with anyio.fail_after(OPERATION_SECONDS):
                    return await operation()
            except TimeoutError:
                started = time.monotonic()
                await anyio.lowlevel.checkpoint()  # how long the callbacks already queued on the loop take
                counted += time.monotonic() - started < BUSY_LAG_SECONDS
                if counted >= TIMEOUT_ATTEMPTS or time.monotonic() >= give_up_at:
                    raise


def _entry(raw: Any) -> Entry | None:
    if not isinstance(raw, bytes):
        return None
    stamp, _, data = raw.partition(b"\n")
    try:
        fetched_at = float(stamp)
    except ValueError:
        return None
    return Entry(fetched_at, data) if data and math.isfinite(fetched_at) else None
