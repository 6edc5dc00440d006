"""The AutoGrab v2 client: one request per call, retries, rate-limit pacing, error mapping.

Knows HTTP and the vendor's payloads; knows nothing of MCP. Every failure leaves as one of
the ``UpstreamError`` classes in ``errors``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx
from pydantic import ValidationError

from .errors import (
    AuthenticationError,
    BadRequestError,
    MissingApiKeyError,
    RateLimitedError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    UpstreamError,
    UpstreamTimeoutError,
)
from .sanitise import clean_text
from .settings import Settings
from .upstream import BuildDataResponse, VinSearchResponse

logger = logging.getLogger(__name__)

# Two retries turn a passing 5xx or refused connection into a success without tripling the
# bill or the wait; more rarely helps a service that is really down.
MAX_RETRIES = 2
# Jittered exponential backoff: 0.5 s then 1 s (each +/-50 %), so many desks retrying at once
# do not arrive together.
BACKOFF_BASE_SECONDS = 0.5
# Waiting for a rate-limit window is worth it when it reopens within a few seconds (the limit
# is per second); longer than this and the assistant should hear when to retry instead.
MAX_RATE_LIMIT_WAIT_SECONDS = 5.0
# All retries and waits of one call fit in this budget, well under the 60 s after which MCP
# clients commonly give up on a request.
RETRY_BUDGET_SECONDS = 25.0
# Real answers are tens of kilobytes; anything this large is not an answer, and reading it
# all would let a broken proxy exhaust memory.
MAX_BODY_BYTES = 2 * 1024 * 1024
USER_AGENT = "vin-mcp"

_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# Vendor messages that mean "no such vehicle" rather than "bad request".
_NO_MATCH_WORDS = ("unsupported", "not found", "no vehicle", "no match", "no data")

Sleep = Callable[[float], Awaitable[None]]
_Payload = TypeVar("_Payload", VinSearchResponse, BuildDataResponse)


class _BodyTooLarge(Exception):
    pass


class AutoGrabClient:
    """Calls the two AutoGrab endpoints through one shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        sleep: Sleep = anyio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._settings = settings
        self._sleep = sleep
        self._clock = clock
        # Rate-limit window as last reported by the API (shared by every caller of this client).
        self._window_remaining: int | None = None
        self._window_resets_at: float | None = None
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"AutoGrabClient(base_url={self._settings.base_url!r}, region={self._settings.region!r})"

    async def search_vin(
        self,
        vin: str,
        region: str,
        *,
        extended_data: bool = False,
        prefer_more_results: bool = False,
        reference_id: str | None = None,
    ) -> VinSearchResponse:
        """``GET /v2/vehicles/vins/{vin}``. A miss comes back with ``vehicle=None``, not as an error."""
        params: dict[str, str] = {"region": region}
        if extended_data:
            params["features"] = "additional_upstream_data"
        if prefer_more_results:
            params["prefer_more_results"] = "true"
        if reference_id:
            params["reference_id"] = reference_id
        status, body = await self._get(f"/v2/vehicles/vins/{vin}", region, params)
        if status == 404 or _is_no_match_envelope(body):
            # The documented miss forms; a 404 body may still carry the authority's description.
            return _parse(VinSearchResponse, _without_error(body))
        _raise_for_envelope(status, body)
        return _parse(VinSearchResponse, body)

    async def build_data(self, vin: str, region: str) -> BuildDataResponse:
        """``GET /v2/vehicles/vins/{vin}/build-data``. No build data comes back as ``vehicle=None``."""
        status, body = await self._get(f"/v2/vehicles/vins/{vin}/build-data", region, {"region": region})
        # The build-data errors' status codes are undocumented: key off the body.
        if status == 404 or _is_no_match_envelope(body):
            return BuildDataResponse(success=False, vehicle=None)
        _raise_for_envelope(status, body)
        return _parse(BuildDataResponse, body)

    async def _get(self, path: str, region: str, params: dict[str, str]) -> tuple[int, Any]:
        if self._settings.api_key is None:
            raise MissingApiKeyError("AUTOGRAB_API_KEY is not set, so AutoGrab cannot be asked.")
        url = self._settings.base_url_for(region) + path
        headers = {"ApiKey": self._settings.api_key.get_secret_value(), "Accept": "application/json"}
        started = self._clock()
        failures = 0
        while True:
            await self._wait_for_rate_limit_window(started)
            try:
                status, response_headers, raw = await self._send(url, params, headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the API, so retrying cannot bill twice.
                failures += 1
                error = ServiceUnavailableError(f"Could not connect to AutoGrab ({type(exc).__name__}).")
                await self._backoff_or_raise(error, failures, started)
                continue
            except httpx.TimeoutException as exc:
                # The API may have done (and billed) the search: do not send it again.
                raise UpstreamTimeoutError(
                    f"AutoGrab did not answer within {self._settings.timeout:g} seconds (AUTOGRAB_TIMEOUT)."
                ) from exc
            except _BodyTooLarge as exc:
                raise UnexpectedResponseError(
                    f"Unexpected response from the API: the body exceeded {MAX_BODY_BYTES // 1024} KiB."
                ) from exc
            except httpx.HTTPError as exc:
                raise ServiceUnavailableError(
                    f"The connection to AutoGrab broke while it was answering ({type(exc).__name__}).",
                    "Try again in a moment; the answer was not received.",
                ) from exc
            self._note_rate_limit(response_headers)
            logger.debug("AutoGrab %s -> HTTP %s", path, status)

            if status == 429:
                wait = self._retry_wait(response_headers)
                elapsed = self._clock() - started
                if wait is not None and wait <= MAX_RATE_LIMIT_WAIT_SECONDS and elapsed + wait <= RETRY_BUDGET_SECONDS:
                    logger.debug("Rate limited; waiting %.2f s as the API asked", wait)
                    await self._sleep(wait)
                    continue
                raise _rate_limited(wait)
            if status in (401, 403):
                raise AuthenticationError(f"AutoGrab rejected the API key (HTTP {status}).")
            if status in _RETRYABLE_STATUSES:
                failures += 1
                error = ServiceUnavailableError(
                    f"AutoGrab is unavailable (HTTP {status}, {failures} attempt{'s' if failures > 1 else ''})."
                )
                await self._backoff_or_raise(error, failures, started)
                continue

            body = _decode_json(raw, status)
            if 400 <= status < 500 and isinstance(body, dict):
                # Error statuses are partly undocumented: the endpoint reads the body to decide.
                return status, body
            if status == 404:
                raise UnexpectedResponseError("Unexpected response from the API: HTTP 404 without a JSON body.")
            if status >= 400:
                raise BadRequestError(f"AutoGrab refused the request (HTTP {status}).")
            if status >= 300 or not isinstance(body, dict):
                raise UnexpectedResponseError(f"Unexpected response from the API (HTTP {status}, not a JSON object).")
            return status, body

    async def _send(
        self, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, httpx.Headers, bytes]:
        self.requests_sent += 1
        async with self._http.stream("GET", url, params=params, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise _BodyTooLarge
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    async def _backoff_or_raise(self, error: UpstreamError, failures: int, started: float) -> None:
        delay = BACKOFF_BASE_SECONDS * 2 ** (failures - 1) * random.uniform(0.5, 1.5)
        if failures > MAX_RETRIES or self._clock() - started + delay > RETRY_BUDGET_SECONDS:
            raise error
        logger.debug("%s Retrying in %.2f s", error.message, delay)
        await self._sleep(delay)

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        remaining = _int_header(headers, "rate-limit-remaining")
        if remaining is None:
            return
        self._window_remaining = remaining
        self._window_resets_at = self._reset_time(headers)

    async def _wait_for_rate_limit_window(self, started: float) -> None:
        """Hold a call while the API said the window is used up, instead of spending a 429."""
        if self._window_remaining is None or self._window_remaining > 0 or self._window_resets_at is None:
            return
        wait = self._window_resets_at - self._clock()
        if wait <= 0:
            self._window_remaining = None
            return
        if wait > MAX_RATE_LIMIT_WAIT_SECONDS or self._clock() - started + wait > RETRY_BUDGET_SECONDS:
            raise _rate_limited(wait, sent=False)
        logger.debug("Rate-limit window used up; waiting %.2f s for it to reset", wait)
        await self._sleep(wait)
        self._window_remaining = None

    def _reset_time(self, headers: httpx.Headers) -> float | None:
        reset = _float_header(headers, "rate-limit-reset")
        if reset is None:
            return None
        # Documented as Unix epoch seconds; a small number can only be a delay in seconds.
        return reset if reset > 1_000_000_000 else self._clock() + reset

    def _retry_wait(self, headers: httpx.Headers) -> float | None:
        """Seconds until the API will take another call: Retry-After first, then Rate-Limit-Reset."""
        retry_after = headers.get("retry-after")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                when = email.utils.parsedate_to_datetime(retry_after) if _looks_like_date(retry_after) else None
                if when is not None:
                    return max(0.0, when.timestamp() - self._clock())
        reset_at = self._reset_time(headers)
        if reset_at is not None:
            return max(0.0, reset_at - self._clock())
        return None


def _rate_limited(wait: float | None, *, sent: bool = True) -> RateLimitedError:
    what = "AutoGrab's rate limit was reached" if sent else "AutoGrab's rate-limit window is used up"
    if wait is None:
        return RateLimitedError(f"{what} and it did not say when to retry.", "Wait a few seconds and try again.")
    seconds = max(1, round(wait))
    return RateLimitedError(
        f"{what}; it reopens in about {seconds} seconds.",
        f"Try again in {seconds} seconds{'; the lookup was not sent' if not sent else ''}.",
        retry_after_seconds=wait,
    )


def _looks_like_date(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = _float_header(headers, name)
    return None if value is None else int(value)


def _float_header(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


def _decode_json(raw: bytes, status: int) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        if status >= 400:
            return None
        raise UnexpectedResponseError(
            f"Unexpected response from the API: HTTP {status} with a body that is not JSON."
        ) from None


def _is_no_match_envelope(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if body.get("error") is True:
        message = str(body.get("message") or "").lower()
        return any(word in message for word in _NO_MATCH_WORDS)
    # "success": false without an error message is one of the documented miss forms.
    return body.get("success") is False


def _raise_for_envelope(status: int, body: dict[str, Any]) -> None:
    if status >= 400 or body.get("error") is True:
        raise BadRequestError(f"AutoGrab refused the request (HTTP {status}){_vendor_message(body)}.")


def _vendor_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = clean_text(body["message"], limit=160).rstrip(".")
        if message:
            return f': "{message}"'
    return ""


def _without_error(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    return {key: value for key, value in body.items() if key not in ("error", "message")}


def _parse(model: type[_Payload], body: dict[str, Any]) -> _Payload:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in err["loc"]) for err in exc.errors()})[:5]
        raise UnexpectedResponseError(
            f"Unexpected response from the API: fields {', '.join(fields)} are not in the documented form."
        ) from None
