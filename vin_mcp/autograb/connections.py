"""Keep-alive HTTP/1.1 connections straight to AutoGrab, each request and its response framed by h11.

httpx's engine (httpcore) frames with h11 too. Around it, its pool takes locks that yield to the event loop even
when nobody else holds them, and runs trace hooks and pool bookkeeping for every request: measured against the fake
on loopback, about a third of what the client adds to a raw socket's round trip (docs/performance.md). A direct
connection needs none of it: one request at a time per connection, the idle ones kept for the next. Requests
through a proxy go through httpcore (``transport``), which speaks HTTP, HTTPS and SOCKS proxies.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import h11
import httpcore

from vin_mcp.autograb.constants import MAX_BODY_BYTES
from vin_mcp.autograb.network import Backend, Stream

logger = logging.getLogger(__name__)
Headers = list[tuple[bytes, bytes]]
# httpcore's figures: reads of 64 KiB; a status line and headers of up to 100 KiB (a proxy's error page may
# carry large ones).
READ_SIZE = 64 * 1024
MAX_HEAD_BYTES = 100 * 1024


class BodyTooLarge(Exception):
    """The answer's body is larger than MAX_BODY_BYTES, as declared or as it arrived."""


@dataclass
class Attempt:
    """One request's progress: a failure before it was sent is safe to retry; after, the API may have done (and
    billed) the search."""

    connect_timeout: float
    sent: bool = False


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, base_url: str) -> Origin:
        url = httpcore.URL(base_url)
        scheme = url.scheme.decode("ascii")
        return cls(scheme, url.host.decode("ascii"), url.port or (443 if scheme == "https" else 80))


class CappedBody:
    """A reply's body as it arrives, refused (``BodyTooLarge``) once it is, or is announced as, over MAX_BODY_BYTES."""

    def __init__(self, headers: Headers) -> None:
        # A Content-Length that is not a number is left to the HTTP framing to refuse.
        declared = next((value for name, value in headers if name.lower() == b"content-length"), b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise BodyTooLarge
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_BODY_BYTES:
            raise BodyTooLarge
        self._chunks.append(chunk)

    def read(self) -> bytes:
        return b"".join(self._chunks)


class Connection:
    """One socket and its HTTP/1.1 state, carrying one request at a time."""

    def __init__(self, stream: Stream, origin: Origin) -> None:
        self.stream = stream
        self.origin = origin
        self.idle_since = 0.0
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)

    async def get(self, target: bytes, headers: Headers, attempt: Attempt) -> tuple[Reply, bool]:
        """The reply, and whether this connection can carry another request."""
        try:
            data = self._h11.send(h11.Request(method=b"GET", target=target, headers=headers)) or b""
            data += self._h11.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            raise httpcore.LocalProtocolError(str(exc)) from exc
        attempt.sent = True
        await self.stream.write(data)
        status, reply_headers, body = 0, [], CappedBody([])
        try:
            while True:
                event = self._h11.next_event()
                if event is h11.NEED_DATA:
                    self._h11.receive_data(await self.stream.read(READ_SIZE))
                elif isinstance(event, h11.Response):
                    status, reply_headers = event.status_code, list(event.headers)
                    body = CappedBody(reply_headers)
                elif isinstance(event, h11.Data):
                    body.add(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpcore.RemoteProtocolError("Server disconnected without sending a response.")
        except h11.RemoteProtocolError as exc:
            raise httpcore.RemoteProtocolError(str(exc)) from exc
        reusable = self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE
        if reusable:
            self._h11.start_next_cycle()
        return Reply(status, reply_headers, body.read()), reusable

    def usable(self, now: float, expiry: float) -> bool:
        """Not idle too long, and not closed by the server: an idle connection with something to read was closed
        (or broke the protocol)."""
        return now - self.idle_since < expiry and not self.stream.get_extra_info("is_readable")

    async def aclose(self, why: str) -> None:
        logger.debug("Closing a connection to %s:%s (%s)", self.origin.host, self.origin.port, why)
        with anyio.CancelScope(shield=True):
            await self.stream.aclose()


class DirectConnections:
    """Connections to each origin asked for, opened on demand, the idle ones kept as httpx keeps them."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        max_connections: int,
        max_idle: int,
        keepalive_expiry: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssl_context = ssl_context
        self._slots = anyio.Semaphore(max_connections, fast_acquire=True)
        self._max_idle = max_idle
        self._expiry = keepalive_expiry
        self._monotonic = monotonic
        self._backend = Backend()
        self._idle: list[Connection] = []
        self._origins: dict[str, Origin] = {}

    async def get(self, base_url: str, target: str, headers: Headers, attempt: Attempt) -> Reply:
        origin = self._origins.get(base_url) or self._origins.setdefault(base_url, Origin.of(base_url))
        async with self._slots:
            connection = await self._idle_connection(origin) or await self._connect(origin, attempt)
            try:
                reply, reusable = await connection.get(target.encode("ascii"), headers, attempt)
            except BaseException:
                await connection.aclose("the exchange did not finish")
                raise
            if reusable and len(self._idle) < self._max_idle:
                connection.idle_since = self._monotonic()
                self._idle.append(connection)
            else:
                await connection.aclose("kept no longer" if reusable else "the reply ended it")
            return reply

    async def _idle_connection(self, origin: Origin) -> Connection | None:
        """The most recently used idle connection to ``origin``; those no longer usable are closed on the way."""
        if not self._idle:
            return None
        now = self._monotonic()
        found: Connection | None = None
        stale: list[Connection] = []
        # The list is settled before anything is awaited: other requests put connections back meanwhile.
        for index in range(len(self._idle) - 1, -1, -1):
            connection = self._idle[index]
            if not connection.usable(now, self._expiry):
                stale.append(self._idle.pop(index))
            elif found is None and connection.origin == origin:
                found = self._idle.pop(index)
        for connection in stale:
            await connection.aclose("idle too long, or closed by the server")
        return found

    async def _connect(self, origin: Origin, attempt: Attempt) -> Connection:
        # Bounded on its own, so a connection that never opened is told apart from a reply that never came.
        bound = attempt.connect_timeout
        logger.debug("Opening a connection to %s:%s", origin.host, origin.port)
        stream = await self._backend.connect_tcp(origin.host, origin.port, timeout=bound)
        if origin.scheme == "https":
            stream = await stream.start_tls(self._ssl_context, origin.host, timeout=bound)
        assert isinstance(stream, Stream)
        return Connection(stream, origin)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose("shutting down")
