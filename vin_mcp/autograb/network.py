"""The sockets under the AutoGrab client's connection pools: httpcore's anyio backend, less a timer per socket call.

httpcore's own backend opens a cancel scope for every read and write, to apply httpx's per-operation timeouts.
Here every attempt is bounded as a whole instead (``client._send``: connection to last byte within
AUTOGRAB_TIMEOUT, which is also each per-operation timeout), so those scopes never fire first, and they cost
a share of every paid call. Connecting keeps its own bound, so a connection that never opens is told apart from
one that went silent after the request was sent (only the first is safe to retry).
"""

# The ``timeout`` parameters are httpcore's interface (AsyncNetworkStream, AsyncNetworkBackend).
# ruff: noqa: ASYNC109
from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import anyio
import anyio.abc
import anyio.streams.tls
import httpcore


class UntrustedCertificate(httpcore.ConnectError):
    """The server's TLS certificate did not verify (``verify_message`` says why): trying again cannot help."""

    def __init__(self, verify_message: str) -> None:
        super().__init__(verify_message)
        self.verify_message = verify_message


class Stream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        # Looked up once: the pool asks whether an idle connection was closed before every request it reuses.
        self._socket: socket.socket | None = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        self._poller: select.poll | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            return b""
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            await self._stream.send(buffer)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                tls = await anyio.streams.tls.TLSStream.wrap(
                    self._stream,
                    ssl_context=ssl_context,
                    hostname=server_hostname,
                    standard_compatible=False,
                    server_side=False,
                )
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except ssl.SSLCertVerificationError as exc:
            await self.aclose()
            raise UntrustedCertificate(exc.verify_message or "certificate verify failed") from exc
        except (ssl.SSLError, OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        return Stream(tls)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._stream.extra(anyio.streams.tls.TLSAttribute.ssl_object, None)
        if info == "client_addr":
            return self._stream.extra(anyio.abc.SocketAttribute.local_address, None)
        if info == "server_addr":
            return self._stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        if info == "socket":
            return self._socket
        if info == "is_readable":
            return self._readable()
        return None

    def _readable(self) -> bool:
        """Whether an idle pooled connection has something to read: the server closed it (or broke the protocol)."""
        if self._socket is None:
            return False
        if not hasattr(select, "poll"):  # Windows
            ready, _, _ = select.select([self._socket], [], [], 0)
            return bool(ready)
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self._socket, select.POLLIN)
        return bool(self._poller.poll(0))


class Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                stream = await anyio.connect_tcp(host, port, local_host=local_address)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, anyio.BrokenResourceError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        for option in socket_options or ():
            raw.setsockopt(*option)
        return Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
