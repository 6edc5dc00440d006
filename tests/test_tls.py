"""AutoGrab over TLS, as the real API is reached: the fake served with a certificate made here, trusted (or not)
through SSL_CERT_FILE, which the README's proxy advice relies on."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests import fake_autograb as fa
from tests.conftest import search_polo
from vin_mcp.autograb.constants import BACKOFF_BASE_SECONDS
from vin_mcp.errors import ServiceUnavailableError


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vin-mcp test AutoGrab")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def tls_fake(tmp_path: Path) -> Iterator[tuple[fa.FakeAutoGrab, Path]]:
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    running = fa.FakeAutoGrab().start(tls=context)
    yield running, cert_file
    running.stop()


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
