"""The few settings the AutoGrab client needs, apart from the application's: built from them by the service."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from vin_mcp.settings import Settings


@dataclass(frozen=True)
class AutoGrabConfig:
    api_key: SecretStr | None
    timeout: float  # seconds per attempt, connection to last byte (AUTOGRAB_TIMEOUT)
    base_url: str | None = None  # AUTOGRAB_BASE_URL; None: AutoGrab's own address for the region
    default_base_urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AutoGrabConfig:
        from vin_mcp.settings import DEFAULT_BASE_URLS

        return cls(settings.api_key, settings.timeout, settings.base_url, DEFAULT_BASE_URLS)

    def base_url_for(self, region: str) -> str:
        return (self.base_url or self.default_base_urls[region]).rstrip("/")

    def __repr__(self) -> str:
        return f"AutoGrabConfig(base_url={self.base_url!r}, timeout={self.timeout!r})"
