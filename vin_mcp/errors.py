"""Every failure vin-mcp reports, each with a one-line remedy the assistant can pass on.

    VinMcpError                      base: ``message`` + ``hint``; ``str()`` is both
    ├── InvalidVinError              malformed VIN, refused before any paid call
    ├── InvalidArgumentError         another argument is out of range
    ├── ConfigurationError           a setting has a bad value
    │   └── MissingApiKeyError       AUTOGRAB_API_KEY is not set
    ├── ShuttingDownError            the server is stopping (SIGTERM) and could not finish the call
    └── UpstreamError                the AutoGrab API failed
        ├── AuthenticationError      401/403: the key was rejected
        ├── BadRequestError          400 or another 4xx with the API's error envelope
        ├── UpstreamFailedError      200 that says it failed ("error": true, "success": false)
        ├── RateLimitedError         429 that outlasted the allowed wait
        ├── ServiceUnavailableError  5xx or connection failures after retries
        ├── UpstreamTimeoutError     no answer within AUTOGRAB_TIMEOUT
        └── UnexpectedResponseError  a body that is not the documented JSON

No message ever contains the API key: messages are built from fixed text, statuses and
short, sanitised excerpts of upstream error messages.
"""

from __future__ import annotations


class VinMcpError(Exception):
    """Base class. ``message`` says what went wrong, ``hint`` what to do about it."""

    default_hint = "Try again; if it keeps failing, report it to the vin-mcp maintainers."

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint or self.default_hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidVinError(VinMcpError):
    default_hint = (
        "Re-read the VIN from the registration papers or the plate at the base of the windscreen; "
        "a VIN has 17 characters and never uses I, O or Q."
    )


class InvalidArgumentError(VinMcpError):
    default_hint = "Correct the argument and call again."


class ConfigurationError(VinMcpError):
    default_hint = (
        "Fix the environment variable named above (in the MCP client's settings for this server) and restart it."
    )


class MissingApiKeyError(ConfigurationError):
    default_hint = (
        "Set AUTOGRAB_API_KEY in the server's environment (or the bundle's settings) to get "
        "registration and build data; the offline VIN decode works without it."
    )


class ShuttingDownError(VinMcpError):
    default_hint = (
        "The server is shutting down (a restart or deploy); this is not a 'no match'. Ask again in a moment: "
        "an answer AutoGrab already gave is not billed twice if the server kept it."
    )


class UpstreamError(VinMcpError):
    """The AutoGrab API did not give a usable answer."""


class AuthenticationError(UpstreamError):
    default_hint = (
        "Check AUTOGRAB_API_KEY (a server-side key usually starts with 'sec_') and that the key is "
        "enabled for this region, then restart the server."
    )


class BadRequestError(UpstreamError):
    default_hint = "Check the VIN and region; if they are right, the vehicle may not be in AutoGrab's data."


class UpstreamFailedError(UpstreamError):
    default_hint = (
        "This is AutoGrab failing, not a 'no match': nothing is known about the vehicle yet. "
        "Try again in a minute; if it repeats, the message above says why."
    )


class RateLimitedError(UpstreamError):
    default_hint = "Wait and try again; if this happens often, the AutoGrab plan's rate limit is too low."

    def __init__(self, message: str, hint: str | None = None, retry_after_seconds: float | None = None) -> None:
        super().__init__(message, hint)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailableError(UpstreamError):
    default_hint = "AutoGrab is having trouble, so this is not a 'no match': try again in a minute."


class UpstreamTimeoutError(UpstreamError):
    default_hint = "Try again shortly; raise AUTOGRAB_TIMEOUT if this keeps happening."


class UnexpectedResponseError(UpstreamError):
    default_hint = (
        "This is not a 'no match': nothing is known about the vehicle yet. Try again later; if it persists, "
        "check AUTOGRAB_BASE_URL points at the AutoGrab API (a proxy or captive portal may be answering instead)."
    )
