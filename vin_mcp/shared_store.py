"""The state replicas share through Redis (or Valkey): answers, who is fetching which one, and the rate-limit
window. Optional (``VIN_MCP_REDIS_URL``); this module and the ``redis`` package are imported only then.

It fails open: each operation is bounded (``OPERATION_SECONDS``) and any failure raises ``StoreDown``,
which the callers answer through the local cache and the API. An outage is logged once, as a WARNING,
and its end once; while it lasts the store is not tried more than every ``RETRY_AFTER_SECONDS``.

Every key sits under ``vin-mcp:v2:<namespace>:``, the namespace an HMAC of the AutoGrab key. Another tenant of
the same Redis (another key) can list and overwrite those keys, so nothing read is trusted as it stands:

- answers are sealed (AES-GCM under a key derived from the AutoGrab key, the Redis key name bound in): no one
  else can read them, and a value that fails to open is a miss, logged once; what opens is cleaned again;
- the rate-limit window's value carries an HMAC and is ignored unless it verifies and expires within the
  clamp; a lock's token carries one too, and a lock that does not verify, or lives longer than a lock can, is
  taken over. A live holder renews its short lock while it pays, so a dead one is noticed within seconds.

Neither the key nor a plain hash of it is ever written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import anyio
import anyio.lowlevel
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from vin_mcp.autograb.text import clean_text
from vin_mcp.cache import Entry, StoreDown

logger = logging.getLogger(__name__)

KEY_VERSION = "v2"
OPERATION_SECONDS = 0.1
TIMEOUT_ATTEMPTS = 2
BUSY_LAG_SECONDS = 0.01
BUSY_LIMIT_SECONDS = 1.0
CONNECT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5.0
_NAMESPACE_LABEL = b"vin-mcp/redis-namespace/v1"
_SEAL_LABEL = b"vin-mcp/redis-seal/v1"
_SIGN_LABEL = b"vin-mcp/redis-sign/v1"
# A paying replica's lock lives this long and is renewed every LOCK_RENEW_SECONDS while it pays: a replica
# that dies is replaced within LOCK_SECONDS, not after the whole call budget.
LOCK_SECONDS = 5.0
LOCK_RENEW_SECONDS = 1.5
# Text in a sealed answer is cleaned again when read (the key could have leaked, the code could have a bug):
# generous enough for every sentence vin-mcp writes.
REREAD_TEXT_LIMIT = 4_000
# The window is never closed for longer than the pacer's clamp (pacing.MAX_WAIT_SECONDS), whatever Redis says.
MAX_WINDOW_SECONDS = 60.0
# Takes the lock if it is free, or held with no expiry or longer than a lock can live (no replica of ours
# wrote that); answers the holder's token either way (SET NX GET needs Redis 7).
_LOCK = """
local holder = redis.call('get', KEYS[1])
if holder then
  local ttl = redis.call('pttl', KEYS[1])
  if ttl >= 0 and ttl <= tonumber(ARGV[2]) then return holder end
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
# Takes a lock over from a holder whose token does not verify (checked by the caller), if it still holds it.
_TAKE_OVER = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0
"""
# Keeps our lock alive while we pay.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
# Deletes the lock only if it is still ours (it may have expired and been taken by another replica).
_UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
# Moves the shared window's reopening later, never earlier; the key expires when the window reopens. The
# value is "<ms>.<signature>"; tonumber() of a forged or older value reads as 0, so ours replaces it.
_CLOSE_UNTIL = """
local current = tonumber(string.match(redis.call('get', KEYS[1]) or '', '^(%d+)%.') or '0')
if tonumber(ARGV[1]) > current then redis.call('set', KEYS[1], ARGV[3], 'PX', ARGV[2]) end
return 0
"""
# The window's value and how long it has left, in one round trip.
_READ_WINDOW = "return {redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}"

T = TypeVar("T")


State = Literal["up", "down"]


def _derived(api_key: SecretStr | None, label: bytes) -> bytes:
    secret = api_key.get_secret_value().encode() if api_key is not None else b""
    return hmac.new(secret, label, hashlib.sha256).digest()


def namespace(api_key: SecretStr | None) -> str:
    """A keyed hash of the AutoGrab key: the same for every replica of one deployment, useless to anyone else."""
    return _derived(api_key, _NAMESPACE_LABEL).hex()[:32]


class RedisStore:
    """Answers, locks and the rate-limit window on one Redis, every call bounded and failing open."""

    def __init__(
        self, client: Redis, api_key: SecretStr | None, *, wait_seconds: float, lock_seconds: float = LOCK_SECONDS
    ) -> None:
        self._redis = client
        self._prefix = f"vin-mcp:{KEY_VERSION}:{namespace(api_key)}:"
        self._seal = AESGCM(_derived(api_key, _SEAL_LABEL))
        self._sign_key = _derived(api_key, _SIGN_LABEL)
        self.lock_seconds = lock_seconds
        self.renew_seconds = min(LOCK_RENEW_SECONDS, lock_seconds / 3)
        # The longest a replica waits for another's answer: the call budget (the holder's own longest call).
        self.wait_seconds = wait_seconds
        self.state: State = "up"
        self._retry_at = 0.0
        self._warned_forgery = False

    @classmethod
    def from_url(
        cls, url: str, password: SecretStr | None, api_key: SecretStr | None, *, wait_seconds: float
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
        return cls(client, api_key, wait_seconds=wait_seconds)

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
        name = self.key_name("answer", key)
        return self._open(name, await self._run(lambda: self._redis.get(name)))

    async def poll(self, key: str) -> tuple[Entry | None, bool]:
        """(the answer if stored, whether a replica of ours holds the key's lock), in one round trip."""
        name = self.key_name("answer", key)
        raw, lock = await self._run(lambda: self._redis.mget(name, self.key_name("lock", key)))
        return self._open(name, raw), isinstance(lock, bytes) and self._token_ok(lock)

    async def put(self, key: str, entry: Entry, ttl: float) -> None:
        name = self.key_name("answer", key)
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._seal.encrypt(nonce, f"{entry.fetched_at!r}\n".encode() + entry.data, name.encode())
        await self._run(lambda: self._redis.set(name, sealed, px=max(1, int(ttl * 1000))))

    async def lock(self, key: str) -> str | None:
        """A token if this replica now fetches ``key``; None if another replica of ours is already fetching it."""
        name, token, ms = self.key_name("lock", key), self._token(), int(self.lock_seconds * 1000)
        # The holder's token comes back, so a retried try that had already gone through still finds it ours.
        held = await self._run(lambda: self._redis.eval(_LOCK, 1, name, token, ms))
        if held == token.encode():
            return token
        if isinstance(held, bytes) and not self._token_ok(held):
            self._forgery_seen("a lock")
            taken = await self._run(lambda: self._redis.eval(_TAKE_OVER, 1, name, held, token, ms))
            return token if taken == 1 else None
        return None

    async def renew(self, key: str, token: str) -> None:
        ms = int(self.lock_seconds * 1000)
        await self._run(lambda: self._redis.eval(_RENEW, 1, self.key_name("lock", key), token, ms))

    async def unlock(self, key: str, token: str) -> None:
        await self._run(lambda: self._redis.eval(_UNLOCK, 1, self.key_name("lock", key), token))

    async def window_reopens_at(self) -> float | None:
        """When the shared rate-limit window reopens (wall-clock seconds), if a replica of ours closed it; a value
        that does not verify, or outlives the clamp, is ignored."""
        raw, ttl = await self._run(lambda: self._redis.eval(_READ_WINDOW, 1, self._prefix + "window"))
        if not isinstance(raw, bytes):
            return None
        stamp, _, signature = raw.partition(b".")
        if not (stamp.isdigit() and hmac.compare_digest(signature, self._sign(b"window:" + stamp))):
            self._forgery_seen("the rate-limit window")
            return None
        if not isinstance(ttl, int) or not 0 <= ttl <= MAX_WINDOW_SECONDS * 1000:
            return None
        return min(int(stamp) / 1000, time.time() + MAX_WINDOW_SECONDS)

    async def close_window_until(self, reopens_at: float) -> None:
        reopens_at = min(reopens_at, time.time() + MAX_WINDOW_SECONDS)
        ms = int(reopens_at * 1000)
        ttl = max(1, int((reopens_at - time.time()) * 1000))
        value = f"{ms}.".encode() + self._sign(b"window:%d" % ms)
        await self._run(lambda: self._redis.eval(_CLOSE_UNTIL, 1, self._prefix + "window", ms, ttl, value))

    def key_name(self, kind: str, key: str) -> str:
        """The Redis key for an answer or a lock: what was searched (a VIN, a plate: personal data in the UK) is
        keyed-hashed, so another tenant listing keys learns nothing."""
        return f"{self._prefix}{kind}:{self._sign(key.encode()).decode()}"

    def _sign(self, data: bytes) -> bytes:
        return hmac.new(self._sign_key, data, hashlib.sha256).hexdigest()[:32].encode()

    def _token(self) -> str:
        nonce = secrets.token_hex(8)
        return f"{nonce}.{self._sign(b'lock:' + nonce.encode()).decode()}"

    def _token_ok(self, token: bytes) -> bool:
        nonce, _, signature = token.partition(b".")
        return hmac.compare_digest(signature, self._sign(b"lock:" + nonce))

    def _open(self, name: str, raw: Any) -> Entry | None:
        """A sealed answer, opened and cleaned again; None (a miss) when absent or when it fails to open."""
        if not isinstance(raw, bytes):
            return None
        try:
            plain = self._seal.decrypt(raw[:12], raw[12:], name.encode())
        except (InvalidTag, ValueError):
            self._forgery_seen("an answer")
            return None
        stamp, _, data = plain.partition(b"\n")
        try:
            fetched_at = float(stamp)
            cleaned = json.dumps(_cleaned(json.loads(data)), ensure_ascii=False, separators=(",", ":")).encode()
        except (ValueError, RecursionError):
            return None
        return Entry(fetched_at, cleaned) if math.isfinite(fetched_at) else None

    def _forgery_seen(self, what: str) -> None:
        """Once per process: someone else with write access to this Redis wrote where only we should."""
        if not self._warned_forgery:
            self._warned_forgery = True
            logger.warning(
                "Redis holds %s under vin-mcp's keys that this deployment did not write (another tenant, or another "
                "AutoGrab key): ignored. Give vin-mcp a Redis (or a database and ACL) of its own.",
                what,
            )

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


def _cleaned(value: Any) -> Any:
    """The JSON value with every string cleaned as vendor text is where it enters."""
    if isinstance(value, str):
        return clean_text(value, REREAD_TEXT_LIMIT)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(k, REREAD_TEXT_LIMIT): _cleaned(item) for k, item in value.items()}
    return value
