"""OAuth resource-server mode against a real local issuer (metadata and JWKS on loopback), tokens minted with PyJWT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests import fake_autograb as fa
from tests.conftest import make_settings
from tests.oauth_issuer import SCOPE, Issuer, SigningKey
from tests.redis_server import free_port
from tests.test_http import INITIALIZE, serving
from tests.test_http import MCP_HEADERS as HEADERS
from vin_mcp.errors import ConfigurationError
from vin_mcp.mcp_server.http_settings import HttpSettings
from vin_mcp.mcp_server.oauth import JwtVerifier

pytestmark = pytest.mark.anyio


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def issuer(port: int) -> Iterator[Issuer]:
    issuer = Issuer(audience=f"http://127.0.0.1:{port}/mcp").start()
    yield issuer
    issuer.stop()


def verifier(issuer: Issuer) -> JwtVerifier:
    return JwtVerifier(issuer.url, issuer.audience)


# --- the token checks, one by one ---------------------------------------------------------------------


async def test_a_valid_token_gives_its_subject_client_and_scopes(issuer: Issuer) -> None:
    access = await verifier(issuer).verify_token(issuer.mint())
    assert access is not None
    assert (access.subject, access.client_id) == ("user-4711", "support-desk-app")
    assert access.scopes == ["openid", SCOPE] and access.resource == issuer.audience


async def test_an_ec_key_works_too(issuer: Issuer) -> None:
    assert await verifier(issuer).verify_token(issuer.mint(issuer.keys[1])) is not None


@pytest.mark.parametrize(
    ("overrides", "accepted"),
    [
        ({"exp": -30}, True),  # expired 30 s ago: within the 60 s of skew
        ({"exp": -120}, False),
        ({"nbf": 30}, True),
        ({"nbf": 120}, False),
        ({"exp": None}, False),  # a token must expire
    ],
)
async def test_exp_and_nbf_allow_sixty_seconds_of_skew(
    issuer: Issuer, overrides: dict[str, int | None], accepted: bool
) -> None:
    now = int(time.time())
    claims: dict[str, Any] = {k: (now + v if v is not None else None) for k, v in overrides.items()}
    assert (await verifier(issuer).verify_token(issuer.mint(**claims)) is not None) is accepted


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://other.example.com/mcp"},
        {"aud": "http://127.0.0.1/mcp"},  # close is not equal
        {"iss": "https://evil.example.com"},
        {"aud": None},
        {"iss": None},
    ],
)
async def test_iss_and_aud_must_be_exact(issuer: Issuer, overrides: dict[str, Any]) -> None:
    assert await verifier(issuer).verify_token(issuer.mint(**overrides)) is None


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_alg_none_is_refused(issuer: Issuer) -> None:
    unsigned = f"{_b64({'alg': 'none', 'kid': issuer.keys[0].kid})}.{_b64(issuer.claims())}."
    assert await verifier(issuer).verify_token(unsigned) is None


async def test_an_hmac_token_keyed_with_the_public_key_is_refused(issuer: Issuer) -> None:
    """The classic confusion: HS256 with the issuer's public key (which anyone can fetch) as the secret."""
    public_key = issuer.keys[0].private.public_key()
    public_pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # Signed by hand: PyJWT itself refuses to use a public key as an HMAC secret.
    signing_input = f"{_b64({'alg': 'HS256', 'kid': issuer.keys[0].kid})}.{_b64(issuer.claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    assert await verifier(issuer).verify_token(forged) is None


async def test_an_algorithm_that_does_not_fit_the_key_is_refused(issuer: Issuer) -> None:
    """An EC-signed token that names the RSA key's kid."""
    token = issuer.mint(issuer.keys[1], kid=issuer.keys[0].kid)
    assert await verifier(issuer).verify_token(token) is None


async def test_a_tampered_token_is_refused(issuer: Issuer) -> None:
    head, _, signature = issuer.mint().split(".")
    richer = _b64(issuer.claims(sub="admin"))
    assert await verifier(issuer).verify_token(f"{head}.{richer}.{signature}") is None
    assert await verifier(issuer).verify_token("not-a-jwt") is None


async def test_an_unknown_kid_refetches_the_keys_once_then_rotated_keys_work(issuer: Issuer) -> None:
    checker = verifier(issuer)
    assert await checker.verify_token(issuer.mint()) is not None
    assert issuer.jwks_fetches == 1
    new_key = issuer.rotate()
    assert await checker.verify_token(issuer.mint(new_key)) is not None  # unknown kid: one refetch
    assert issuer.jwks_fetches == 2 and checker.fetches == 2


async def test_a_flood_of_unknown_kids_cannot_hammer_the_issuer(issuer: Issuer) -> None:
    checker = verifier(issuer)
    assert await checker.verify_token(issuer.mint()) is not None
    for n in range(200):
        assert await checker.verify_token(issuer.mint(kid=f"forged-{n}")) is None
    assert issuer.jwks_fetches <= 2  # the first, and at most one refetch per 30 s


async def test_metadata_naming_another_issuer_is_not_trusted(issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    """The same server under another name: its metadata's issuer is not the configured one (RFC 8414 §3.3)."""
    elsewhere = issuer.url.replace("127.0.0.1", "localhost")
    token = issuer.mint(iss=elsewhere)
    assert await JwtVerifier(elsewhere, issuer.audience).verify_token(token) is None
    assert issuer.jwks_fetches == 0
    assert any("Could not fetch the issuer's signing keys" in m for m in caplog.messages)


async def test_an_unreachable_issuer_refuses_tokens_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    token = jwt.encode({"iss": gone, "aud": "x", "exp": 9_999_999_999}, SigningKey("RSA").private, algorithm="RS256")
    assert await JwtVerifier(gone, "x").verify_token(token) is None
    assert any("Could not fetch the issuer's signing keys (ValueError: no metadata" in m for m in caplog.messages)


async def test_the_keys_can_be_named_directly(issuer: Issuer) -> None:
    checker = JwtVerifier(issuer.url, issuer.audience, f"{issuer.url}/jwks.json")
    assert await checker.verify_token(issuer.mint()) is not None


# --- the server: discovery, 401/403, /health, a full session ---------------------------------------------


@contextmanager
def oauth_server(issuer: Issuer, port: int, fake: fa.FakeAutoGrab, **settings: Any) -> Iterator[str]:
    http = HttpSettings.from_env({}, oauth_issuer=issuer.url, oauth_audience=issuer.audience)
    with serving(make_settings(fake, **settings), http, port=port) as base:
        yield base


def test_discovery_401_403_and_an_open_health_probe(issuer: Issuer, port: int, fake: fa.FakeAutoGrab) -> None:
    with oauth_server(issuer, port, fake) as base:
        metadata = httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp").json()
        at_root = httpx.get(f"{base}/.well-known/oauth-protected-resource").json()
        missing = httpx.post(f"{base}/mcp", json=INITIALIZE, headers=HEADERS)
        forged = httpx.post(f"{base}/mcp", json=INITIALIZE, headers={**HEADERS, "authorization": "Bearer x.y.z"})
        expired_token = issuer.mint(exp=int(time.time()) - 600)
        expired = httpx.post(
            f"{base}/mcp", json=INITIALIZE, headers={**HEADERS, "authorization": f"Bearer {expired_token}"}
        )
        unscoped_token = issuer.mint(scope="openid profile")
        unscoped = httpx.post(
            f"{base}/mcp", json=INITIALIZE, headers={**HEADERS, "authorization": f"Bearer {unscoped_token}"}
        )
        in_query = httpx.post(f"{base}/mcp?access_token={issuer.mint()}", json=INITIALIZE, headers=HEADERS)
        health = httpx.get(f"{base}/health")
        valid = httpx.post(
            f"{base}/mcp", json=INITIALIZE, headers={**HEADERS, "authorization": f"Bearer {issuer.mint()}"}
        )
    assert metadata["resource"] == issuer.audience and at_root == metadata
    # The SDK writes a path-less issuer with a trailing slash (URL normalisation); one with a path is kept as is.
    assert [url.rstrip("/") for url in metadata["authorization_servers"]] == [issuer.url]
    assert metadata["scopes_supported"] == [SCOPE]
    for refused in (missing, forged, expired, in_query):
        assert refused.status_code == 401
        challenge = refused.headers["www-authenticate"]
        assert (
            challenge.startswith("Bearer ")
            and f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
        )
    assert unscoped.status_code == 403 and 'error="insufficient_scope"' in unscoped.headers["www-authenticate"]
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert valid.status_code == 200


async def test_a_full_session_with_a_valid_token_tags_usage_with_the_subject(
    issuer: Issuer, port: int, fake: fa.FakeAutoGrab, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vin_mcp.mcp_server.oauth")
    token = issuer.mint()
    with oauth_server(issuer, port, fake, reference_id_from="subject") as base:
        http_client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http_client)) as client:
            tools = await client.list_tools()
            result = await client.call_tool("lookup_vin", {"vin": fa.RICH})
    assert {t.name for t in tools.tools} == {"lookup_vin", "lookup_registration", "get_factory_build_data"}
    assert not result.is_error and (result.structured_content or {})["status"] == "matched"
    assert fake.calls(fa.RICH)[0].query["reference_id"] == "user-4711"
    lines = [r.getMessage() for r in caplog.records if r.name == "vin_mcp.mcp_server.oauth"]
    assert "Request by subject user-4711, client support-desk-app" in lines
    assert all(token not in line and token.split(".")[2] not in line for line in caplog.messages)


async def test_the_usage_tag_can_name_the_client_instead(issuer: Issuer, port: int, fake: fa.FakeAutoGrab) -> None:
    http_client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {issuer.mint()}"}, timeout=30)
    with oauth_server(issuer, port, fake, reference_id_from="client_id", reference_id="desk-7") as base:
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http_client)) as client:
            await client.call_tool("lookup_vin", {"vin": fa.POLO})
    assert fake.calls(fa.POLO)[0].query["reference_id"] == "support-desk-app"


# --- configuration --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {
                "VIN_MCP_OAUTH_ISSUER": "https://login.example.com",
                "VIN_MCP_OAUTH_AUDIENCE": "https://vin.example.com/mcp",
                "VIN_MCP_HTTP_TOKEN": "t" * 32,
            },
            "not both",
        ),
        ({"VIN_MCP_OAUTH_ISSUER": "https://login.example.com"}, "together"),
        (
            {
                "VIN_MCP_OAUTH_ISSUER": "http://login.example.com",
                "VIN_MCP_OAUTH_AUDIENCE": "https://vin.example.com/mcp",
            },
            "https://",
        ),
        ({"VIN_MCP_HTTP_HOST": "10.0.0.5"}, "without authentication"),
    ],
)
def test_oauth_settings_are_checked_in_one_line(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        HttpSettings.from_env(env)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert "t" * 32 not in str(caught.value)


def test_oauth_alone_may_listen_beyond_loopback() -> None:
    http = HttpSettings.from_env(
        {
            "VIN_MCP_HTTP_HOST": "10.0.0.5",
            "VIN_MCP_OAUTH_ISSUER": "https://login.example.com/realms/desk",
            "VIN_MCP_OAUTH_AUDIENCE": "https://vin.example.com/mcp",
        }
    )
    assert http.oauth and http.oauth_scopes == ("vin:lookup",)
