"""How the AutoGrab client reaches the API: httpx's connection pools, direct or through the proxy the environment
names.

The client sends each request straight to the pool that httpx's own transport would wrap (httpcore, httpx's HTTP
engine), built as ``httpx.AsyncHTTPTransport`` builds it. httpx's layers around it (the client's cookies, redirects,
auth and URL merging; the transport turning each request and response into httpx's models) do nothing this client
needs and cost a share of every request's time. The one thing of theirs that matters here, proxies from the
environment, is chosen the same way: HTTPS_PROXY, HTTP_PROXY or ALL_PROXY for the URL's scheme, unless NO_PROXY names
the host. TLS is httpx's default context, including SSL_CERT_FILE and SSL_CERT_DIR.
"""

from __future__ import annotations

import importlib.util
import ssl
import urllib.request
from types import TracebackType
from typing import TypedDict
from urllib.parse import urlsplit

import httpcore
import httpx

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


def connection_pool(proxy: str | None) -> httpcore.AsyncConnectionPool:
    """A pool as ``httpx.AsyncHTTPTransport(proxy=proxy)`` builds one, on sockets without a timer per call
    (``network``), and with no retries of its own: the client decides what may be sent again (a search that
    reached AutoGrab is billed)."""
    options = PoolOptions(
        ssl_context=httpx.create_ssl_context(),
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        network_backend=Backend(),
    )
    if proxy is None:
        return httpcore.AsyncConnectionPool(retries=0, **options)
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
        return httpcore.AsyncHTTPProxy(
            proxy_url=url,
            proxy_auth=parsed.raw_auth,
            proxy_headers=parsed.headers.raw,
            proxy_ssl_context=parsed.ssl_context,
            **options,
        )
    return httpcore.AsyncSOCKSProxy(proxy_url=url, proxy_auth=parsed.raw_auth, **options)


class Transports:
    """One connection pool per way out (direct, or each proxy), chosen once per base URL."""

    def __init__(self) -> None:
        self._pools: dict[str | None, httpcore.AsyncConnectionPool] = {}
        self._chosen: dict[str, httpcore.AsyncConnectionPool] = {}

    def for_base_url(self, base_url: str) -> httpcore.AsyncConnectionPool:
        pool = self._chosen.get(base_url)
        if pool is None:
            proxy = environment_proxy(base_url)
            pool = self._pools.get(proxy)
            if pool is None:
                pool = self._pools[proxy] = connection_pool(proxy)
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
