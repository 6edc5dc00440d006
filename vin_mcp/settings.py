"""The one settings object, read from the environment."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from vin_mcp.errors import ConfigurationError

Region = Literal["au", "nz", "uk"]
REGIONS: tuple[str, ...] = get_args(Region)

# The vendor documents the AU host for au/nz and a UK host for uk (older UK pages show the AU host,
# hence AUTOGRAB_BASE_URL to override).
DEFAULT_BASE_URLS: dict[str, str] = {
    "au": "https://api.autograb.com.au",
    "nz": "https://api.autograb.com.au",
    "uk": "https://api.autograb.co.uk",
}


class Settings(BaseModel):
    """Every knob, with its environment variable and default."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr | None = Field(None, description="AUTOGRAB_API_KEY")
    region: Region = Field("au", description="AUTOGRAB_REGION")
    base_url: str | None = Field(None, description="AUTOGRAB_BASE_URL; default chosen by region")
    timeout: float = Field(10.0, description="AUTOGRAB_TIMEOUT, seconds per request")
    reference_id: str | None = Field(None, description="AUTOGRAB_REFERENCE_ID, default usage tag")
    cache_ttl: float = Field(86_400.0, description="VIN_MCP_CACHE_TTL, seconds; 0 disables the cache")
    cache_size: int = Field(1_024, description="VIN_MCP_CACHE_SIZE, answers kept in memory")

    def base_url_for(self, region: str) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[region]).rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the environment; a bad value raises ``ConfigurationError`` naming the variable."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            # Desktop hosts may pass an unfilled optional bundle field through literally.
            if not value or (value.startswith("${") and value.endswith("}")):
                return None
            return value

        api_key = get("AUTOGRAB_API_KEY")
        region = (get("AUTOGRAB_REGION") or "au").lower()
        if region not in REGIONS:
            raise ConfigurationError(
                f"AUTOGRAB_REGION is {_quote(region)}; use one of {', '.join(REGIONS)}.",
            )
        base_url = get("AUTOGRAB_BASE_URL")
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"AUTOGRAB_BASE_URL is {_quote(base_url)}; it must start with https:// (or http://).",
            )
        return cls(
            api_key=SecretStr(api_key) if api_key else None,
            region=region,
            base_url=base_url,
            timeout=_number(get("AUTOGRAB_TIMEOUT"), "AUTOGRAB_TIMEOUT", 10.0, minimum=0.1, maximum=120),
            reference_id=get("AUTOGRAB_REFERENCE_ID"),
            cache_ttl=_number(get("VIN_MCP_CACHE_TTL"), "VIN_MCP_CACHE_TTL", 86_400.0, minimum=0, maximum=10**8),
            cache_size=int(_number(get("VIN_MCP_CACHE_SIZE"), "VIN_MCP_CACHE_SIZE", 1024, minimum=1, maximum=10**6)),
        )


def _number(raw: str | None, name: str, default: float, *, minimum: float, maximum: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (minimum <= value <= maximum):
        raise ConfigurationError(f"{name} is {_quote(raw)}; use a number from {minimum:g} to {maximum:g}.")
    return value


def _quote(value: str) -> str:
    return repr(value[:40])


LOOPBACK_NAMES = ("localhost",)
MIN_TOKEN_LENGTH = 16
TOKEN_ADVICE = 'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


class HttpSettings(BaseModel):
    """How ``vin-mcp --transport http`` listens. Command-line options override the environment."""

    model_config = ConfigDict(frozen=True)

    host: str = Field("127.0.0.1", description="VIN_MCP_HTTP_HOST, address to bind")
    port: int = Field(8000, description="VIN_MCP_HTTP_PORT")
    path: str = Field("/mcp", description="VIN_MCP_HTTP_PATH, the MCP endpoint")
    stateless: bool = Field(False, description="VIN_MCP_HTTP_STATELESS, no sessions (for load balancers)")
    token: SecretStr | None = Field(None, description="VIN_MCP_HTTP_TOKEN, bearer token clients must send")
    allowed_hosts: tuple[str, ...] = Field((), description="VIN_MCP_HTTP_ALLOWED_HOSTS, comma-separated")
    allowed_origins: tuple[str, ...] = Field((), description="VIN_MCP_HTTP_ALLOWED_ORIGINS, comma-separated")

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.host)

    @property
    def wildcard_bind(self) -> bool:
        return self.host in ("0.0.0.0", "::", "")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> HttpSettings:
        """Read the environment, apply command-line overrides (None = not given), refuse unsafe set-ups."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        given = {name: value for name, value in overrides.items() if value is not None}
        host = str(given.get("host") or get("VIN_MCP_HTTP_HOST") or "127.0.0.1").strip("[]")
        raw_port = given.get("port", get("VIN_MCP_HTTP_PORT"))
        port = int(
            _number(None if raw_port is None else str(raw_port), "VIN_MCP_HTTP_PORT", 8000, minimum=0, maximum=65535)
        )
        path = str(given.get("path") or get("VIN_MCP_HTTP_PATH") or "/mcp")
        if not path.startswith("/") or path == "/" or any(c.isspace() for c in path):
            raise ConfigurationError(f"VIN_MCP_HTTP_PATH is {_quote(path)}; use a path such as /mcp.")
        stateless = bool(given.get("stateless")) or _flag(get("VIN_MCP_HTTP_STATELESS"), "VIN_MCP_HTTP_STATELESS")
        token = get("VIN_MCP_HTTP_TOKEN")
        if token is not None and len(token) < MIN_TOKEN_LENGTH:
            raise ConfigurationError(
                f"VIN_MCP_HTTP_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters; {TOKEN_ADVICE}."
            )
        settings = cls(
            host=host,
            port=port,
            path=path.rstrip("/"),
            stateless=stateless,
            token=SecretStr(token) if token else None,
            allowed_hosts=_split(get("VIN_MCP_HTTP_ALLOWED_HOSTS")),
            allowed_origins=_split(get("VIN_MCP_HTTP_ALLOWED_ORIGINS")),
        )
        if not settings.loopback_only and settings.token is None:
            raise ConfigurationError(
                f"vin-mcp will not listen on {host} without a bearer token: set VIN_MCP_HTTP_TOKEN "
                f"({TOKEN_ADVICE}), or listen on 127.0.0.1."
            )
        if settings.wildcard_bind and not settings.allowed_hosts:
            raise ConfigurationError(
                f"Listening on {host} accepts any address, so say which Host names clients use: set "
                "VIN_MCP_HTTP_ALLOWED_HOSTS (e.g. vin.example.com,10.0.0.5:8000). Other Host headers are "
                "refused to stop DNS-rebinding attacks."
            )
        return settings


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _flag(raw: str | None, name: str) -> bool:
    if raw is None:
        return False
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} is {_quote(raw)}; use true or false.")


def _split(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())
