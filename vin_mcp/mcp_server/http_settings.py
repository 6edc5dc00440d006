"""How ``vin-mcp --transport http`` listens: its environment variables, and the set-ups it refuses."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from vin_mcp.settings import EnvSettings

LOOPBACK_NAMES = ("localhost",)
MIN_TOKEN_LENGTH = 16
TOKEN_ADVICE = 'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


Names = Annotated[tuple[str, ...], BeforeValidator(_names)]


class HttpSettings(EnvSettings):
    """Command-line options override the environment."""

    host: Annotated[str, BeforeValidator(lambda v: v.strip("[]") if isinstance(v, str) else v)] = Field(
        "127.0.0.1", alias="VIN_MCP_HTTP_HOST", description="address to bind (default 127.0.0.1)"
    )
    port: int = Field(8000, alias="VIN_MCP_HTTP_PORT", ge=0, le=65535, description="port (0 picks a free one)")
    path: str = Field("/mcp", alias="VIN_MCP_HTTP_PATH", description="the MCP endpoint")
    stateless: bool = Field(False, alias="VIN_MCP_HTTP_STATELESS", description="no sessions, for load balancers")
    token: SecretStr | None = Field(
        None, alias="VIN_MCP_HTTP_TOKEN", description="bearer token clients must send (required beyond loopback)"
    )
    allowed_hosts: Names = Field((), alias="VIN_MCP_HTTP_ALLOWED_HOSTS", description="Host names, comma-separated")
    allowed_origins: Names = Field((), alias="VIN_MCP_HTTP_ALLOWED_ORIGINS", description="Origins, comma-separated")
    max_sessions: int = Field(
        500, alias="VIN_MCP_HTTP_MAX_SESSIONS", ge=1, le=10_000, description="open sessions at most (idlest evicted)"
    )
    max_sessions_per_client: int = Field(
        50,
        alias="VIN_MCP_HTTP_MAX_SESSIONS_PER_CLIENT",
        ge=1,
        le=10_000,
        description="sessions per OAuth subject, or per address with a shared token",
    )
    session_idle_minutes: float = Field(
        15.0,
        alias="VIN_MCP_HTTP_SESSION_IDLE_MINUTES",
        gt=0,
        le=1_440,
        allow_inf_nan=False,
        description="a session with no request for this long is closed",
    )
    header_timeout: float = Field(
        10.0,
        alias="VIN_MCP_HTTP_HEADER_TIMEOUT",
        ge=0.5,
        le=120,
        allow_inf_nan=False,
        description="seconds a request's headers may take to arrive",
    )
    oauth_issuer: str | None = Field(
        None, alias="VIN_MCP_OAUTH_ISSUER", description="OAuth authorization server (issuer URL) whose tokens to accept"
    )
    oauth_audience: str | None = Field(
        None, alias="VIN_MCP_OAUTH_AUDIENCE", description="this server's public resource URL (the tokens' aud)"
    )
    oauth_jwks_url: str | None = Field(
        None, alias="VIN_MCP_OAUTH_JWKS_URL", description="the issuer's signing keys (default: from its metadata)"
    )
    oauth_scopes: Names = Field(
        ("vin:lookup",), alias="VIN_MCP_OAUTH_SCOPES", description="scopes a token must carry, comma-separated"
    )

    @field_validator("oauth_issuer", "oauth_audience", "oauth_jwks_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        # Plain http only to this machine (a local issuer while testing): anything else would let a network
        # attacker swap the keys.
        if url is not None:
            parts = urlsplit(url)
            local = parts.scheme == "http" and is_loopback(parts.hostname or "")
            if not (parts.scheme == "https" or local) or not parts.netloc:
                raise ValueError("use an https:// URL (http:// only for 127.0.0.1 or localhost)")
        return url

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or path == "/" or any(c.isspace() for c in path):
            raise ValueError("use a path such as /mcp")
        return path.rstrip("/")

    @field_validator("token")
    @classmethod
    def _token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"VIN_MCP_HTTP_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters; {TOKEN_ADVICE}")
        return token

    @model_validator(mode="after")
    def _safe(self) -> Self:
        if (self.oauth_issuer is None) != (self.oauth_audience is None):
            raise ValueError("Set VIN_MCP_OAUTH_ISSUER and VIN_MCP_OAUTH_AUDIENCE together (OAuth needs both).")
        if self.oauth and self.token is not None:
            raise ValueError(
                "Set either VIN_MCP_HTTP_TOKEN (one shared token) or VIN_MCP_OAUTH_ISSUER (each person's own "
                "token), not both."
            )
        if self.oauth_jwks_url is not None and not self.oauth:
            raise ValueError("VIN_MCP_OAUTH_JWKS_URL needs VIN_MCP_OAUTH_ISSUER and VIN_MCP_OAUTH_AUDIENCE.")
        if not self.loopback_only and self.token is None and not self.oauth:
            raise ValueError(
                f"Refusing to listen on {self.host} without authentication: set VIN_MCP_HTTP_TOKEN "
                f"({TOKEN_ADVICE}) or VIN_MCP_OAUTH_ISSUER, or listen on 127.0.0.1."
            )
        if self.wildcard_bind and not self.allowed_hosts:
            raise ValueError(
                f"Listening on {self.host} accepts any address, so say which Host names clients use: set "
                "VIN_MCP_HTTP_ALLOWED_HOSTS (e.g. vin.example.com,10.0.0.5:8000). Other Host headers are "
                "refused to stop DNS-rebinding attacks."
            )
        return self

    @property
    def oauth(self) -> bool:
        return self.oauth_issuer is not None and self.oauth_audience is not None

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.host)

    @property
    def wildcard_bind(self) -> bool:
        return self.host in ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
