"""How the AutoGrab client reaches the API: httpx transports, direct or through the proxy the environment names.

The client sends each request straight to a transport. httpx's client layer around it (cookies, redirects, auth,
URL merging, default headers) does nothing this client needs and costs a share of every request's time; the one
thing of its that matters here, proxies from the environment, is chosen here the same way: HTTPS_PROXY, HTTP_PROXY
or ALL_PROXY for the URL's scheme, unless NO_PROXY names the host. TLS follows httpx's defaults, including
SSL_CERT_FILE and SSL_CERT_DIR.
"""

from __future__ import annotations

import urllib.request
from types import TracebackType
from urllib.parse import urlsplit

import httpx


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url``, or None to connect directly."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    # With a proxy in the environment, proxy_bypass reads NO_PROXY (and nothing of the system's settings).
    if not proxy or (parts.hostname and urllib.request.proxy_bypass(parts.hostname)):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class Transports:
    """One connection pool per way out (direct, or each proxy), chosen once per base URL."""

    def __init__(self) -> None:
        self._pools: dict[str | None, httpx.AsyncHTTPTransport] = {}
        self._chosen: dict[str, httpx.AsyncHTTPTransport] = {}

    def for_base_url(self, base_url: str) -> httpx.AsyncBaseTransport:
        transport = self._chosen.get(base_url)
        if transport is None:
            proxy = environment_proxy(base_url)
            transport = self._pools.get(proxy)
            if transport is None:
                # retries=0: the client decides what may be sent again (a search that reached AutoGrab is billed).
                transport = self._pools[proxy] = httpx.AsyncHTTPTransport(proxy=proxy, retries=0)
            self._chosen[base_url] = transport
        return transport

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
