"""The one settings object: each environment variable declared once, as a field with its default and bounds.

``EnvSettings`` is the shared machinery (a pydantic model whose fields are named by their variables): a blank
value, or a desktop host's unfilled ``${user_config.…}`` placeholder, counts as unset; a bad value becomes one
``ConfigurationError`` line naming the variable and what it accepts.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from vin_mcp.errors import ConfigurationError

Region = Literal["au", "nz", "uk"]
REGIONS: tuple[str, ...] = get_args(Region)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)

# The vendor documents the AU host for au/nz and a UK host for uk (older UK pages show the AU host,
# hence AUTOGRAB_BASE_URL to override).
DEFAULT_BASE_URLS: dict[str, str] = {
    "au": "https://api.autograb.com.au",
    "nz": "https://api.autograb.com.au",
    "uk": "https://api.autograb.co.uk",
}


def _unset(value: object) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    # Desktop hosts may pass an unfilled optional bundle field through literally.
    return not text or (text.startswith("${") and text.endswith("}"))


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


# The SDK derives an AES-256 key from it; fewer bytes than that would be guessable.
MIN_STATE_KEY_BYTES = 32


def _state_key(value: SecretStr | None) -> SecretStr | None:
    if value is not None and len(value.get_secret_value().encode()) < MIN_STATE_KEY_BYTES:
        raise ValueError(
            f"VIN_MCP_REQUEST_STATE_KEY is too short: use at least {MIN_STATE_KEY_BYTES} random bytes, "
            'e.g. the output of python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return value


def _redis_url(value: SecretStr | None) -> SecretStr | None:
    # A secret: the URL may hold the password, so the error never echoes it.
    if value is None:
        return None
    if not value.get_secret_value().startswith(("redis://", "rediss://")):
        raise ValueError("VIN_MCP_REDIS_URL must start with redis:// or rediss:// (TLS)")
    if importlib.util.find_spec("redis") is None:
        raise ValueError("VIN_MCP_REDIS_URL needs the redis package: pip install 'vin-mcp[redis]'")
    return value


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("it must start with https:// (or http://)")
    return value


class EnvSettings(BaseModel):
    """Settings read from the environment (or given as keyword arguments, which win).

    Each field's alias is its variable, read as written: no other name, no files. (pydantic-settings did this
    too, at 30 ms of every start, a twentieth of the SDK's whole import.)
    """

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_name=True, str_strip_whitespace=True)

    def __init__(self, **data: Any) -> None:
        fields = type(self).model_fields
        read = {
            field.alias: os.environ[field.alias]
            for name, field in fields.items()
            if field.alias and field.alias in os.environ and name not in data and field.alias not in data
        }
        super().__init__(**read, **data)

    @model_validator(mode="before")
    @classmethod
    def _blanks_are_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if not _unset(value)}
        return data

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read ``environ`` (default: the process environment); ``overrides`` (None = not given) win."""
        fields = cls.model_fields
        given: dict[str, Any] = {
            str(fields[name].alias if name in fields and fields[name].alias else name): value
            for name, value in overrides.items()
            if value is not None
        }
        try:
            if environ is None:
                return cls(**given)
            return cls.model_validate({**environ, **given})
        except ValidationError as exc:
            raise ConfigurationError(cls._explain(exc)) from None

    @classmethod
    def _explain(cls, exc: ValidationError) -> str:
        """Every bad setting, one sentence each, in one line; a value is never echoed beyond a short prefix."""
        sentences: list[str] = []
        for error in exc.errors():
            sentence = cls._sentence(error)
            if sentence not in sentences:
                sentences.append(sentence)
        return " ".join(sentences)

    @classmethod
    def _sentence(cls, error: Any) -> str:
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule about several settings: its message is the whole story
            return message
        name = str(error["loc"][0])
        field = next((f for n, f in cls.model_fields.items() if name in (n, f.alias)), None)
        variable = str(field.alias) if field is not None and field.alias else name
        if field is not None and "SecretStr" in str(field.annotation):  # never echo a secret
            return message if message.endswith(".") else f"{message}."
        return f"{variable} is {shown_value(error.get('input'))}; {_accepts(field, message)}."

    @classmethod
    def variables(cls) -> list[tuple[str, str]]:
        """(environment variable, what it does) for every field: for the command line's help."""
        return [(str(f.alias), f.description or "") for f in cls.model_fields.values()]


# What a pasted key, token or password looks like: a key prefix, credentials in a URL, or a long unbroken
# run of letters and digits. Such a value is never shown, not even its start.
_SECRET_LIKE = re.compile(r"^(?:sec|pub)_|://[^/\s]*@|[A-Za-z0-9_+/=-]{20,}", re.I)
SHOWN_CHARACTERS = 12


def shown_value(value: object) -> str:
    """A rejected setting's value as an error may show it: whole if short, else a masked prefix; never a secret."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "not valid"
    text = str(value)
    if _SECRET_LIKE.search(text):
        return f"a value that looks like a key or password ({len(text)} characters, not shown)"
    if len(text) <= SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:4]!r}… ({len(text)} characters)"


def _plain(number: float) -> str:
    """100000000, not 1e+08."""
    return str(int(number)) if float(number).is_integer() else str(number)


def _accepts(field: Any, message: str) -> str:
    """What a field accepts, from its own declaration."""
    if field is not None:
        choices = get_args(field.annotation)
        if choices and all(isinstance(choice, str) for choice in choices):
            return f"use one of {', '.join(choices)}"
        bounds = {type(m).__name__: m for m in field.metadata}
        if "Ge" in bounds and "Le" in bounds:
            return f"use a number from {_plain(bounds['Ge'].ge)} to {_plain(bounds['Le'].le)}"
        if field.annotation is bool:
            return "use true or false"
    return message.removeprefix("Value error, ")


class Settings(EnvSettings):
    """Every knob of the AutoGrab client, the cache and the server's transport."""

    api_key: SecretStr | None = Field(None, alias="AUTOGRAB_API_KEY", description="AutoGrab API key (sec_...)")
    region: Annotated[Region, BeforeValidator(_lower)] = Field(
        "au", alias="AUTOGRAB_REGION", description="au, nz or uk"
    )
    base_url: Annotated[str | None, AfterValidator(_http_url)] = Field(
        None, alias="AUTOGRAB_BASE_URL", description="API base URL; default chosen by region"
    )
    timeout: float = Field(
        10.0, alias="AUTOGRAB_TIMEOUT", ge=0.1, le=120, allow_inf_nan=False, description="seconds per request"
    )
    reference_id: str | None = Field(None, alias="AUTOGRAB_REFERENCE_ID", description="default usage tag")
    reference_id_from: Literal["subject", "client_id"] | None = Field(
        None,
        alias="VIN_MCP_REFERENCE_ID_FROM",
        description="usage tag from the caller's OAuth token: subject or client_id",
    )
    cache_ttl: float = Field(
        86_400.0, alias="VIN_MCP_CACHE_TTL", ge=0, le=10**8, allow_inf_nan=False, description="seconds; 0 disables"
    )
    cache_size: int = Field(1_024, alias="VIN_MCP_CACHE_SIZE", ge=1, le=10**6, description="answers kept in memory")
    transport: Annotated[Literal["stdio", "http"], BeforeValidator(_lower)] = Field(
        "stdio", alias="VIN_MCP_TRANSPORT", description="stdio or http (--transport wins)"
    )
    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = Field(
        "WARNING", alias="VIN_MCP_LOG_LEVEL", description="DEBUG, INFO, WARNING or ERROR (--log-level wins)"
    )
    shutdown_seconds: float = Field(
        10.0,
        alias="VIN_MCP_SHUTDOWN_SECONDS",
        ge=0,
        le=120,
        allow_inf_nan=False,
        description="on SIGTERM, seconds calls in flight may take to finish (stdio and HTTP)",
    )
    redis_url: Annotated[SecretStr | None, AfterValidator(_redis_url)] = Field(
        None,
        alias="VIN_MCP_REDIS_URL",
        description="redis:// or rediss:// URL: a cache and rate limit shared by replicas",
    )
    redis_password: SecretStr | None = Field(
        None, alias="VIN_MCP_REDIS_PASSWORD", description="Redis password, if not in the URL"
    )
    request_state_key: Annotated[SecretStr | None, AfterValidator(_state_key)] = Field(
        None,
        alias="VIN_MCP_REQUEST_STATE_KEY",
        description="seals a question's state so any HTTP replica can take the reply; same on every replica",
    )

    @classmethod
    def environment_secrets(cls, environ: Mapping[str, str] | None = None) -> list[str | None]:
        """The secrets as the environment holds them, whether or not the settings could be read."""
        env = os.environ if environ is None else environ
        values = [env.get(str(f.alias)) for f in cls.model_fields.values() if "SecretStr" in str(f.annotation)]
        return [_url_password(value) if value and "://" in value else value for value in values]

    def secrets(self) -> list[SecretStr | str | None]:
        """Every secret a setting holds, for the redactor: the keys, and a password in the Redis URL (the rest of
        the URL is an address, which logs may name)."""
        in_url = _url_password(self.redis_url.get_secret_value()) if self.redis_url else None
        return [self.api_key, self.request_state_key, self.redis_password, in_url]

    def base_url_for(self, region: str) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[region]).rstrip("/")
