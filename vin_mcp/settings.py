"""The one settings object, read from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .errors import ConfigurationError

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
            region=region,  # type: ignore[arg-type]  # checked against REGIONS above
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
