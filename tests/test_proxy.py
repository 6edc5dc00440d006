"""AutoGrab through the proxy the environment names (README, Troubleshooting): a real forward proxy on loopback."""

from __future__ import annotations

import http.client
import importlib.util
import select
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import fake_autograb as fa
from tests.conftest import search_polo
from vin_mcp import __version__
from vin_mcp.autograb.transport import environment_proxy
from vin_mcp.errors import ConfigurationError, ServiceUnavailableError

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class ForwardProxy:
    """A plain HTTP forward proxy: reads the absolute URL a client asks it for, fetches it, records the request;
    for HTTPS, tunnels the connection a client asks for with CONNECT (and sees only the host and port)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                target = urlsplit(self.path)
                upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
                forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")}
                upstream.request("GET", f"{target.path}?{target.query}", headers=forwarded)
                answer = upstream.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                upstream.close()

            def do_CONNECT(self) -> None:
                proxy.seen.append((f"CONNECT {self.path}", {k.lower(): v for k, v in self.headers.items()}))
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=10)
                self.send_response(200, "Connection established")
                self.end_headers()
                ends = [self.connection, upstream]
                try:
                    while True:
                        readable, _, _ = select.select(ends, [], [], 10)
                        if not readable:
                            return
                        for end in readable:
                            data = end.recv(65536)
                            if not data:
                                return
                            (upstream if end is self.connection else self.connection).sendall(data)
                except OSError:
                    return
                finally:
                    upstream.close()
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    running = ForwardProxy()
    yield running
    running.stop()


@pytest.mark.anyio
async def test_searches_go_through_the_proxy_the_environment_names(
    fake: fa.FakeAutoGrab, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert await search_polo(fake) == "Volkswagen"
    [(url, headers)] = proxy.seen
    assert url == f"{fake.url}/v2/vehicles/vins/{fa.POLO}?region=au"
    assert headers["user-agent"] == f"vin-mcp/{__version__}"
    assert len(fake.calls(fa.POLO)) == 1  # and AutoGrab got it, key and all, through the proxy


@pytest.mark.anyio
async def test_no_proxy_sends_searches_direct(
    fake: fa.FakeAutoGrab, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert await search_polo(fake) == "Volkswagen"
    assert proxy.seen == []
    assert len(fake.calls(fa.POLO)) == 1


@pytest.mark.anyio
async def test_https_searches_tunnel_through_the_proxy_and_trust_ssl_cert_file(
    tls_fake: tuple[fa.FakeAutoGrab, Path], proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How AutoGrab itself (an https address) is reached behind a corporate proxy: the README's advice."""
    fake, cert_file = tls_fake
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    assert await search_polo(fake) == "Volkswagen"
    [(request, headers)] = proxy.seen
    assert request == f"CONNECT {fake.url.removeprefix('https://')}"  # the proxy saw where, never the key
    assert fa.API_KEY not in repr(headers)
    assert len(fake.calls(fa.POLO)) == 1


@pytest.mark.anyio
async def test_through_a_proxy_an_untrusted_certificate_is_said_at_once_and_nothing_is_sent(
    tls_fake: tuple[fa.FakeAutoGrab, Path], proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy that re-signs TLS with a certificate the server does not trust, as the README's advice describes."""
    fake, _ = tls_fake
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(ServiceUnavailableError) as failure:
        await search_polo(fake)
    assert str(failure.value).startswith(f"The TLS certificate of {fake.url} is not trusted")
    assert len(proxy.seen) == 1 and fake.calls(fa.POLO) == []


def test_environment_proxy_reads_the_variables_as_httpx_does(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    api = "https://api.autograb.com.au"
    assert environment_proxy(api) is None
    monkeypatch.setenv("ALL_PROXY", "http://all.example:8080")
    assert environment_proxy(api) == "http://all.example:8080"
    monkeypatch.setenv("HTTPS_PROXY", "corp.example:3128")  # no scheme: an HTTP proxy
    assert environment_proxy(api) == "http://corp.example:3128"
    assert environment_proxy("http://127.0.0.1:8765") == "http://all.example:8080"  # only HTTPS_PROXY is for https
    monkeypatch.setenv("NO_PROXY", ".autograb.com.au")
    assert environment_proxy(api) is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("proxy_url", "said"),
    [
        (
            "ftp://user:hunter2secret@127.0.0.1:21",
            "has the scheme 'ftp'; vin-mcp can use http, https, socks5 or socks5h",
        ),
        pytest.param(
            "socks5://user:hunter2secret@127.0.0.1:1080",
            "is a SOCKS proxy, which needs the socksio package",
            marks=pytest.mark.skipif(importlib.util.find_spec("socksio") is not None, reason="socksio is installed"),
        ),
    ],
    ids=["unknown-scheme", "socks-without-socksio"],
)
async def test_a_proxy_vin_mcp_cannot_use_is_a_setting_to_fix_and_nothing_is_sent(
    fake: fa.FakeAutoGrab, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch, proxy_url: str, said: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    with pytest.raises(ConfigurationError) as failure:
        await search_polo(fake)
    message = str(failure.value)
    assert said in message and ("HTTP_PROXY" in message or "httpx[socks]" in message)
    assert "hunter2secret" not in message and "user" not in message
    assert fake.calls(fa.POLO) == [] and proxy.seen == []
