"""How the AutoGrab client reaches the API: straight to it, or through the proxy the environment names.

A direct connection is vin-mcp's own (``connections``: h11 on a kept-alive socket). Through a proxy, each request
goes to the pool that httpx's own transport would wrap (httpcore, httpx's HTTP engine), built as
``httpx.AsyncHTTPTransport`` builds it, for its HTTP, HTTPS and SOCKS proxies. The proxy is chosen as httpx chooses
it: HTTPS_PROXY, HTTP_PROXY or ALL_PROXY for the URL's scheme, unless NO_PROXY names the host. TLS is httpx's default
context either way, including SSL_CERT_FILE and SSL_CERT_DIR.
"""

from __future__ import annotations

import importlib.util
import ssl
import urllib.request
from types import TracebackType
from typing import Protocol, TypedDict
from urllib.parse import urlsplit

import httpcore
import httpx

from vin_mcp.autograb.connections import Attempt, CappedBody, DirectConnections, Headers, Reply
from vin_mcp.autograb.network import Backend
from vin_mcp.errors import ConfigurationError

PROXY_HINT = (
    "Fix HTTPS_PROXY, HTTP_PROXY or ALL_PROXY in the server's environment (or name AutoGrab's host in NO_PROXY); "
    "this is not a 'no match'."
)
# httpx's own defaults (httpx.Limits as AsyncHTTPTransport takes them).
MAX_CONNECTIONS = 100
MAX_KEEPALIVE_CONNECTIONS = 20
KEEPALIVE_EXPIRY_SECONDS = 5.0


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url``, or None to connect directly."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    # With a proxy in the environment, proxy_bypass reads NO_PROXY (and nothing of the system's settings).
    if not proxy or (parts.hostname and urllib.request.proxy_bypass(parts.hostname)):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class PoolOptions(TypedDict):
    ssl_context: ssl.SSLContext
    max_connections: int
    max_keepalive_connections: int
    keepalive_expiry: float
    network_backend: httpcore.AsyncNetworkBackend


class Connections(Protocol):
    """One way out to the API: ``get`` sends one GET of ``target`` (path and query) to ``base_url``."""

    async def get(self, base_url: str, target: str, headers: Headers, attempt: Attempt) -> Reply: ...

    async def aclose(self) -> None: ...


class ProxiedConnections:
    """Requests through a proxy, on httpcore's pool for it; each response read under MAX_BODY_BYTES."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def get(self, base_url: str, target: str, headers: Headers, attempt: Attempt) -> Reply:
        async def trace(event: str, _: object) -> None:
            attempt.sent = attempt.sent or "send_request_headers" in event

        timeouts = httpx.Timeout(attempt.connect_timeout).as_dict()
        request = httpcore.Request(
            b"GET", base_url + target, headers=headers, extensions={"trace": trace, "timeout": timeouts}
        )
        response = await self._pool.handle_async_request(request)
        try:
            body = CappedBody(response.headers)
            async for chunk in response.aiter_stream():
                body.add(chunk)
            return Reply(response.status, response.headers, body.read())
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._pool.aclose()


def connections_for(proxy: str | None) -> Connections:
    """Direct connections, or a pool as ``httpx.AsyncHTTPTransport(proxy=proxy)`` builds one, on sockets without a
    timer per call (``network``). Neither retries on its own: the client decides what may be sent again (a search
    that reached AutoGrab is billed)."""
    if proxy is None:
        return DirectConnections(
            httpx.create_ssl_context(),
            max_connections=MAX_CONNECTIONS,
            max_idle=MAX_KEEPALIVE_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        )
    options = PoolOptions(
        ssl_context=httpx.create_ssl_context(),
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        network_backend=Backend(),
    )
    try:
        parsed = httpx.Proxy(proxy)
    except ValueError:  # httpx's own message holds the URL, which may hold a password: only the scheme is said
        raise ConfigurationError(
            f"The proxy the environment names for AutoGrab has the scheme {urlsplit(proxy).scheme[:10]!r}; vin-mcp "
            "can use http, https, socks5 or socks5h.",
            PROXY_HINT,
        ) from None
    if parsed.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ConfigurationError(
            "The proxy the environment names for AutoGrab is a SOCKS proxy, which needs the socksio package.",
            "Install it where the server runs (pip install 'httpx[socks]') or name an HTTP proxy; this is not a "
            "'no match'.",
        )
    url = httpcore.URL(
        scheme=parsed.url.raw_scheme, host=parsed.url.raw_host, port=parsed.url.port, target=parsed.url.raw_path
    )
    if parsed.url.scheme in ("http", "https"):
        return ProxiedConnections(
            httpcore.AsyncHTTPProxy(
                proxy_url=url,
                proxy_auth=parsed.raw_auth,
                proxy_headers=parsed.headers.raw,
                proxy_ssl_context=parsed.ssl_context,
                **options,
            )
        )
    return ProxiedConnections(httpcore.AsyncSOCKSProxy(proxy_url=url, proxy_auth=parsed.raw_auth, **options))


class Transports:
    """One set of connections per way out (direct, or each proxy), chosen once per base URL."""

    def __init__(self) -> None:
        self._pools: dict[str | None, Connections] = {}
        self._chosen: dict[str, Connections] = {}

    def for_base_url(self, base_url: str) -> Connections:
        pool = self._chosen.get(base_url)
        if pool is None:
            proxy = environment_proxy(base_url)
            pool = self._pools.get(proxy)
            if pool is None:
                pool = self._pools[proxy] = connections_for(proxy)
            self._chosen[base_url] = pool
        return pool

    async def aclose(self) -> None:
        pools, self._pools, self._chosen = list(self._pools.values()), {}, {}
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> Transports:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
