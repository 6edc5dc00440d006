"""AutoGrab over TLS, as the real API is reached: the fake served with a certificate made here, trusted (or not)
through SSL_CERT_FILE, which the README's proxy advice relies on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests import fake_autograb as fa
from tests.conftest import search_polo
from vin_mcp.autograb.constants import BACKOFF_BASE_SECONDS
from vin_mcp.errors import ServiceUnavailableError


@pytest.mark.anyio
async def test_search_over_tls_with_the_certificate_trusted(
    tls_fake: tuple[fa.FakeAutoGrab, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, cert_file = tls_fake
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    assert fake.url.startswith("https://127.0.0.1:")
    assert await search_polo(fake) == "Volkswagen"
    assert len(fake.calls(fa.POLO)) == 1


@pytest.mark.anyio
async def test_an_untrusted_certificate_is_said_at_once_and_nothing_is_sent(
    tls_fake: tuple[fa.FakeAutoGrab, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _ = tls_fake
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as failure:
        await search_polo(fake)
    message = str(failure.value)
    assert message.startswith(f"The TLS certificate of {fake.url} is not trusted (self-signed certificate)")
    assert "SSL_CERT_FILE" in message and "not a 'no match'" in message
    assert time.monotonic() - started < BACKOFF_BASE_SECONDS  # not retried: a second try cannot trust it either
    assert fake.calls(fa.POLO) == []  # the key never left: the handshake failed before the request


@pytest.mark.anyio
async def test_tls_to_a_server_that_speaks_plain_http_is_a_connection_failure(fake: fa.FakeAutoGrab) -> None:
    """The handshake breaks (not a certificate matter): reported as a failure to connect, never as a miss."""
    plain = fake.url.replace("http://", "https://")
    with pytest.raises(ServiceUnavailableError) as failure:
        await search_polo(fake, base_url=plain)
    assert str(failure.value).startswith(f"Could not connect to {plain}, the address AUTOGRAB_BASE_URL gives")
    assert "not a 'no match'" in str(failure.value)
    assert fake.calls(fa.POLO) == []  # the request never went out: the handshake came first
