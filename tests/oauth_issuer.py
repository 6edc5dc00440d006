"""A local OAuth authorization server for the tests: RFC 8414 metadata and a JWKS on 127.0.0.1, and access
tokens (RFC 9068 JWTs) minted with PyJWT. Keys can be rotated; every JWKS fetch is counted."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

SCOPE = "vin:lookup"


class SigningKey:
    def __init__(self, kind: str = "RSA") -> None:
        self.kid = uuid.uuid4().hex[:12]
        self.private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "RSA"
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.alg = "RS256" if kind == "RSA" else "ES256"

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            text = jwt.algorithms.RSAAlgorithm.to_jwk(public)
        else:
            text = jwt.algorithms.ECAlgorithm.to_jwk(public)
        jwk: dict[str, Any] = json.loads(text)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.alg}


class Issuer:
    """Serves ``/.well-known/oauth-authorization-server`` and ``/jwks.json``; ``mint`` signs tokens."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        self.keys = [SigningKey("RSA"), SigningKey("EC")]
        self.jwks_fetches = 0
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> Issuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body: dict[str, Any]
                if self.path == "/.well-known/oauth-authorization-server":
                    body = {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks.json",
                        "authorization_endpoint": f"{issuer.url}/authorize",
                        "token_endpoint": f"{issuer.url}/token",
                        "response_types_supported": ["code"],
                    }
                elif self.path == "/jwks.json":
                    issuer.jwks_fetches += 1
                    body = {"keys": [key.public_jwk() for key in issuer.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def rotate(self) -> SigningKey:
        """A new signing key replaces the first one (the issuer's routine rotation)."""
        self.keys = [SigningKey("RSA"), *self.keys[1:]]
        return self.keys[0]

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": self.audience,
            "sub": "user-4711",
            "client_id": "support-desk-app",
            "scope": f"openid {SCOPE}",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(self, key: SigningKey | None = None, *, kid: str | None = None, **overrides: Any) -> str:
        key = key or self.keys[0]
        return jwt.encode(self.claims(**overrides), key.private, algorithm=key.alg, headers={"kid": kid or key.kid})


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.oauth_issuer``: a local issuer to try OAuth mode by hand; prints what to set and two tokens
    (one with the scope, one without), valid for an hour."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.oauth_issuer", description=main.__doc__)
    parser.add_argument("--audience", default="http://127.0.0.1:8000/mcp", help="the vin-mcp URL tokens are for")
    args = parser.parse_args(argv)
    issuer = Issuer(audience=args.audience).start()
    hour = int(time.time()) + 3600
    lines = [
        f"Local OAuth issuer (test keys only) on {issuer.url}; Ctrl-C stops it.",
        "Start vin-mcp against it in another terminal:",
        f"  VIN_MCP_OAUTH_ISSUER={issuer.url} VIN_MCP_OAUTH_AUDIENCE={args.audience} "
        ".venv/bin/vin-mcp --transport http --port 8000",
        f"A token with the {SCOPE} scope (accepted):",
        f"  {issuer.mint(exp=hour)}",
        "A token without it (refused with 403 insufficient_scope):",
        f"  {issuer.mint(exp=hour, scope='openid')}",
        "Send one as: curl -H 'Authorization: Bearer <token>' ...",
    ]
    print("\n".join(lines), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        issuer.stop()


if __name__ == "__main__":
    main()
