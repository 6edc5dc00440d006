"""OAuth 2.1 resource-server mode: JWT access tokens from the organisation's authorization server.

The SDK does the protocol around it (``/.well-known/oauth-protected-resource``, 401 with
``WWW-Authenticate``, 403 ``insufficient_scope``, tokens read from the Authorization header only); this
module checks each token as RFC 9068 and RFC 8725 ask: a signature by a key of the issuer's JWKS, an
algorithm from an asymmetric allow-list that fits that key, ``iss`` and ``aud`` exactly, ``exp`` and
``nbf`` within 60 s of skew. Keys are cached; an unknown ``kid`` refetches them at most once per
``MIN_REFRESH_SECONDS``, so a flood of forged tokens cannot make the server hammer the issuer.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import jwt
from mcp.server.auth.provider import AccessToken

logger = logging.getLogger(__name__)

# Never "none", never a symmetric algorithm (an attacker could sign with the public key as an HMAC secret).
ALGORITHMS: dict[str, str] = {
    **{alg: "RSA" for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    **{alg: "EC" for alg in ("ES256", "ES384", "ES512")},
    "EdDSA": "OKP",
}
LEEWAY_SECONDS = 60
MIN_REFRESH_SECONDS = 30.0
FETCH_TIMEOUT_SECONDS = 5.0
FETCH_DEADLINE_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 256 * 1024


class JwtVerifier:
    """The SDK's ``TokenVerifier`` for JWT access tokens issued by ``issuer`` for ``audience``."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        *,
        monotonic: Any = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._monotonic = monotonic
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._refreshed_at: float | None = None
        self._refreshing = anyio.Lock()
        self.fetches = 0  # JWKS documents fetched (the tests count them)

    def __repr__(self) -> str:
        return f"JwtVerifier(issuer={self.issuer!r}, audience={self.audience!r})"

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's access, or None (the SDK then answers 401). Never raises, never logs the token."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _refused("not a JWT")
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            return _refused(f"algorithm {str(alg)[:20]!r} not allowed")
        jwk = await self._key(kid if isinstance(kid, str) else None)
        if jwk is None:
            return _refused("no key of the issuer matches its kid")
        if jwk.get("kty") != ALGORITHMS[alg] or jwk.get("alg", alg) != alg:
            return _refused(f"algorithm {alg} does not fit the key")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            return _refused(type(exc).__name__)
        access = AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or "unknown"),
            scopes=_scopes(claims),
            # The SDK checks expires_at again after this verifier, without leeway: the skew allowed here is
            # added, so both agree on when a token has expired.
            expires_at=int(claims["exp"]) + LEEWAY_SECONDS,
            resource=self.audience,
            subject=str(claims["sub"]) if "sub" in claims else None,
            claims={"iss": claims["iss"]},
        )
        logger.info("Request by subject %s, client %s", access.subject or "(none)", access.client_id)
        return access

    async def _key(self, kid: str | None) -> dict[str, Any] | None:
        found = self._find(kid)
        if found is not None:
            return found
        async with self._refreshing:
            found = self._find(kid)  # another request may have refreshed while this one waited
            if found is not None:
                return found
            # The first fetch always; after it, a refresh for an unknown kid at most once per MIN_REFRESH_SECONDS.
            if self._fetched_at is not None:
                if self._refreshed_at is not None and self._monotonic() - self._refreshed_at < MIN_REFRESH_SECONDS:
                    return None
                self._refreshed_at = self._monotonic()
            self._fetched_at = self._monotonic()
            try:
                # One deadline for discovery and keys together: an issuer trickling bytes holds every request
                # waiting on this lock, so it may not take longer than this.
                with anyio.fail_after(FETCH_DEADLINE_SECONDS):
                    self._keys = await self._fetch_keys()
            except (httpx.HTTPError, ValueError, KeyError, TypeError, TimeoutError) as exc:
                logger.warning("Could not fetch the issuer's signing keys (%s: %s)", type(exc).__name__, exc)
                return None
        return self._find(kid)

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        if kid is not None:
            return self._keys.get(kid)
        # No kid: only unambiguous when the issuer publishes one key.
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    async def _fetch_keys(self) -> dict[str, dict[str, Any]]:
        self.fetches += 1
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as http:
            jwks_url = self._jwks_url or await self._discover(http)
            document = await _json(http, jwks_url)
        keys = document["keys"]
        if not isinstance(keys, list):
            raise ValueError("keys is not a list")
        usable = [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
        return {str(k.get("kid", index)): k for index, k in enumerate(usable)}

    async def _discover(self, http: httpx.AsyncClient) -> str:
        """The ``jwks_uri`` of the issuer's metadata: RFC 8414 first, then OpenID Connect discovery."""
        parts = urlsplit(self.issuer)
        path = parts.path.rstrip("/")
        for url in (
            f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}",
            f"{self.issuer.rstrip('/')}/.well-known/openid-configuration",
        ):
            try:
                metadata = await _json(http, url)
            except (httpx.HTTPError, ValueError):
                continue
            if metadata.get("issuer") == self.issuer and isinstance(metadata.get("jwks_uri"), str):
                return str(metadata["jwks_uri"])
        raise ValueError(f"no metadata at the issuer's well-known addresses names {self.issuer} and its jwks_uri")


async def _json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """A JSON object, read no further than MAX_DOCUMENT_BYTES (a larger document is refused, never held)."""
    # Uncompressed, read raw: a compressed bomb could not grow past the cap between two checks.
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    async with http.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                raise ValueError(f"document larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
            chunks.append(chunk)
    document = json.loads(b"".join(chunks))
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def _scopes(claims: dict[str, Any]) -> list[str]:
    """RFC 9068 ``scope`` (space-separated), or the common ``scp`` (a list or a string)."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return str(raw).split()


def _refused(reason: str) -> AccessToken | None:
    # At the default level: an operator whose users are refused must see why (never the token itself).
    logger.warning("Bearer token refused: %s", reason)
    return None
