"""The AutoGrab v2 client: one request per call, retries, rate-limit pacing, error mapping.

Knows HTTP and the vendor's payloads; knows nothing of MCP. Every failure leaves as one of
the ``UpstreamError`` classes in ``errors``. A miss is only what the contract calls one (a null or
absent vehicle, or a 404 whose body says the vehicle or VIN was not found); every other odd answer
is a failure, so an outage is never reported as "no such vehicle".
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import re
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.to_thread
import httpx
from pydantic import ValidationError

from vin_mcp.autograb.pacing import RateLimitPacer
from vin_mcp.autograb.payloads import BuildDataResponse, Envelope, VinSearchResponse
from vin_mcp.autograb.requests import LookupRequest
from vin_mcp.errors import (
    AuthenticationError,
    BadRequestError,
    MissingApiKeyError,
    RateLimitedError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    UpstreamError,
    UpstreamFailedError,
    UpstreamTimeoutError,
)
from vin_mcp.settings import Settings

# Sent only by vin-mcp's own fake of the API when run for people to try (python -m tests.fake_autograb).
TEST_DATA_HEADER = "X-Vin-Mcp-Test-Data"
logger = logging.getLogger(__name__)

# Two retries turn a passing 5xx or refused connection into a success without tripling the
# bill or the wait; more rarely helps a service that is really down.
MAX_RETRIES = 2
# Jittered exponential backoff: 0.5 s then 1 s (each +/-50 %), so many desks retrying at once
# do not arrive together.
BACKOFF_BASE_SECONDS = 0.5
# A call waits for the rate-limit window at most this often and this long each time; beyond that the
# assistant should hear when to retry instead.
MAX_RATE_LIMIT_WAITS = 2
MAX_RATE_LIMIT_WAIT_SECONDS = 5.0
# All retries and waits of one call fit in this budget, well under the 60 s after which MCP
# clients commonly give up on a request.
RETRY_BUDGET_SECONDS = 25.0
# Real answers are tens of kilobytes; anything this large is not an answer, and reading (or
# decompressing) it all would let a broken proxy exhaust memory.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Bodies larger than this (real answers are a few KiB to tens of KiB) are decoded in a worker thread.
OFF_LOOP_BYTES = 64 * 1024
USER_AGENT = "vin-mcp"

_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# The API's own words for a miss on a 404: the vehicle or VIN named as the subject ("Vehicle not found", "No
# matching vehicle"). A gateway's 404 names a route or nothing ("Route GET:/v2/vehicles/vins/… not found", "No
# matching route", "Not Found"): a failure, never a miss.
_NOT_FOUND_TAIL = r"\b[\w ]{0,30}\b(?:could )?not (?:be )?found"
_NOT_FOUND = re.compile(
    rf"^\W*(?:(?:the |this )?(?:vehicle|vin)s?{_NOT_FOUND_TAIL}|no (?:matching )?(?:vehicle|vin)s?\b(?! route))", re.I
)
# Build data's documented "nothing for this VIN" message ("Invalid or Unsupported VIN"; status undocumented).
_NO_BUILD_DATA = re.compile(
    rf"\bunsupported vin\b|^\W*(?:(?:the |this )?(?:vehicle|vin|build data){_NOT_FOUND_TAIL}|no (?:build )?data\b)",
    re.I,
)
# A message about the key is the key's problem whatever the status ("API key not found" on a 400).
_KEY_WORDS = re.compile(
    r"\bapi[ _-]?key\b|\bapikey\b|\bunauthori[sz]ed\b|\bkey (?:is )?(?:invalid|not found|expired)", re.I
)
_ROUTE_WORDS = re.compile(r"\broute\b|\bendpoint\b|\bpath\b|\bGET\b|/v2/", re.I)

Sleep = Callable[[float], Awaitable[None]]
_Payload = TypeVar("_Payload", VinSearchResponse, BuildDataResponse)
_T = TypeVar("_T")


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
        monotonic: Callable[[], float] = time.monotonic,
        pacer: RateLimitPacer | None = None,
    ) -> None:
        self._http = http
        self._settings = settings
        self._sleep = sleep
        self._monotonic = monotonic
        self.pacer = pacer or RateLimitPacer(monotonic=monotonic, sleep=sleep)
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"AutoGrabClient(base_url={self._settings.base_url!r}, region={self._settings.region!r})"

    async def search_vin(self, request: LookupRequest) -> VinSearchResponse:
        """``GET /v2/vehicles/vins/{vin}`` for a request whose VIN is valid and region resolved. A miss comes
        back with ``vehicle=None``, not as an error."""
        region = request.region or self._settings.region
        params: dict[str, str] = {"region": region}
        if request.include_extended_data:
            params["features"] = "additional_upstream_data"
        if request.prefer_more_results:
            params["prefer_more_results"] = "true"
        if request.reference_id:
            params["reference_id"] = request.reference_id
        status, body, test_data, size = await self._get(f"/v2/vehicles/vins/{request.vin}", region, params)
        envelope = _envelope(body)
        _raise_for_key(status, envelope)
        if status == 404:
            if _is_miss(_NOT_FOUND, envelope):
                # The API's miss; its body may still carry the registration authority's description.
                miss = {**body, "vehicle": None, "additional_vehicles": []}
                return (await _parse(VinSearchResponse, miss, size)).marked(test_data)
            raise _not_the_api(status, envelope)
        _raise_for_envelope(status, envelope)
        return (await _parse(VinSearchResponse, body, size)).marked(test_data)

    async def build_data(self, vin: str, region: str) -> BuildDataResponse:
        """``GET /v2/vehicles/vins/{vin}/build-data``. No build data comes back as ``vehicle=None``."""
        status, body, test_data, size = await self._get(
            f"/v2/vehicles/vins/{vin}/build-data", region, {"region": region}
        )
        envelope = _envelope(body)
        _raise_for_key(status, envelope)
        # The build-data errors' status codes are undocumented: key off the body.
        if envelope.error is True and status in (200, 400, 404, 422) and _is_miss(_NO_BUILD_DATA, envelope):
            return BuildDataResponse(vehicle=None).marked(test_data)
        if status == 404:
            raise _not_the_api(status, envelope)
        _raise_for_envelope(status, envelope)
        return (await _parse(BuildDataResponse, body, size)).marked(test_data)

    async def _get(self, path: str, region: str, params: dict[str, str]) -> tuple[int, dict[str, Any], bool, int]:
        """(status, JSON body, whether vin-mcp's own fake of the API served it, the body's size in bytes)."""
        if self._settings.api_key is None:
            raise MissingApiKeyError("AUTOGRAB_API_KEY is not set, so AutoGrab cannot be asked.")
        # Encoded here, once: httpx merging a params dict into a URL costs a second URL parse per attempt.
        url = f"{self._settings.base_url_for(region)}{path}?{urlencode(params)}"
        headers = {
            "ApiKey": self._settings.api_key.get_secret_value(),
            "Accept": "application/json",
            # Compressed bodies are decoded by hand under the size cap (see _decompress).
            "Accept-Encoding": "identity",
        }
        deadline = self._monotonic() + RETRY_BUDGET_SECONDS
        waits_left = [MAX_RATE_LIMIT_WAITS]
        failures = 0
        while True:
            attempt: tuple[int, httpx.Headers, bytes] | None = None
            await self.pacer.sync()
            async with self.pacer.turn(deadline, MAX_RATE_LIMIT_WAIT_SECONDS, waits_left) as refusal:
                if refusal is not None:
                    raise _rate_limited(refusal.wait)
                try:
                    attempt = await self._send(url, headers)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    # Nothing reached the API, so retrying cannot bill twice (backoff below, outside the turn).
                    connect_failure = self._connect_failure(url, exc)
                except (httpx.TimeoutException, TimeoutError) as exc:
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
                else:
                    self.pacer.learn(attempt[0], attempt[1])
            await self.pacer.share()
            if attempt is None:
                failures += 1
                await self._backoff_or_raise(connect_failure, failures, deadline)
                continue
            status, response_headers, raw = attempt
            logger.debug("AutoGrab %s -> HTTP %s", path, status)

            if status == 429:
                wait = self.pacer.closed_for()
                if waits_left[0] <= 0 or wait > MAX_RATE_LIMIT_WAIT_SECONDS or self._monotonic() + wait > deadline:
                    raise _rate_limited(wait)
                continue  # the next turn waits for the window to reopen
            if status in (401, 403):
                raise AuthenticationError(f"AutoGrab rejected the API key (HTTP {status}).")
            if status in _RETRYABLE_STATUSES:
                failures += 1
                error = ServiceUnavailableError(
                    f"AutoGrab is unavailable (HTTP {status}, {failures} attempt{'s' if failures > 1 else ''})."
                )
                await self._backoff_or_raise(error, failures, deadline)
                continue

            coding = response_headers.get("content-encoding", "")
            body = await _off_loop(len(raw), functools.partial(_read_body, raw, coding, status))
            test_data = TEST_DATA_HEADER in response_headers
            if status >= 400 and isinstance(body, dict):
                # Error statuses are partly undocumented: the endpoint reads the body to decide.
                return status, body, test_data, len(raw)
            if status == 404:
                raise UnexpectedResponseError(
                    "Unexpected response: HTTP 404 without a JSON body, so not from the AutoGrab API."
                )
            if status >= 400:
                raise BadRequestError(f"AutoGrab refused the request (HTTP {status}).")
            if status >= 300 or not isinstance(body, dict):
                raise UnexpectedResponseError(f"Unexpected response from the API (HTTP {status}, not a JSON object).")
            return status, body, test_data, len(raw)

    def _connect_failure(self, url: str, exc: Exception) -> ServiceUnavailableError:
        """With AUTOGRAB_BASE_URL set, a refused connection is far more often that address than an outage."""
        if self._settings.base_url is None:
            return ServiceUnavailableError(f"Could not connect to AutoGrab ({type(exc).__name__}).")
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return ServiceUnavailableError(
            f"Could not connect to {where}, the address AUTOGRAB_BASE_URL gives ({type(exc).__name__}).",
            "Check AUTOGRAB_BASE_URL (or unset it to use AutoGrab's own address) and any proxy setting "
            "(HTTPS_PROXY); this is not a 'no match'.",
        )

    async def _send(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        """One attempt, connection to last byte, within AUTOGRAB_TIMEOUT (httpx's own timeouts are per
        read, so a body trickled a byte at a time would otherwise hold the call and a pooled connection)."""
        self.requests_sent += 1
        sending = False

        async def trace(event: str, _: object) -> None:
            nonlocal sending
            sending = sending or "send_request_headers" in event

        try:
            with anyio.fail_after(self._settings.timeout):
                return await self._read(url, headers, trace)
        except TimeoutError:
            if not sending:  # still connecting: nothing reached the API, so it is safe to retry
                raise httpx.ConnectTimeout(f"no connection within {self._settings.timeout:g} s") from None
            raise

    async def _read(self, url: str, headers: dict[str, str], trace: object) -> tuple[int, httpx.Headers, bytes]:
        async with self._http.stream("GET", url, headers=headers, extensions={"trace": trace}) as response:
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise _BodyTooLarge
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    async def _backoff_or_raise(self, error: UpstreamError, failures: int, deadline: float) -> None:
        delay = BACKOFF_BASE_SECONDS * 2 ** (failures - 1) * random.uniform(0.5, 1.5)
        if failures > MAX_RETRIES or self._monotonic() + delay > deadline:
            raise error
        logger.debug("%s Retrying in %.2f s", error.message, delay)
        await self._sleep(delay)


def _rate_limited(wait: float) -> RateLimitedError:
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return RateLimitedError(
        f"AutoGrab's rate limit is reached; it reopens in about {seconds} {unit}.",
        f"Try again in {seconds} {unit}; if this happens often, the AutoGrab plan's rate limit is too low.",
        retry_after_seconds=wait,
    )


def _decompress(raw: bytes, content_encoding: str) -> bytes:
    """Undo gzip/deflate codings under MAX_BODY_BYTES each, so a small bomb cannot grow into gigabytes."""
    body = raw
    codings = [coding.strip().lower() for coding in content_encoding.split(",") if coding.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UnexpectedResponseError(f"Unexpected response from the API: a body encoded as {coding[:20]!r}.")
        # wbits 47 reads gzip or zlib; a bare deflate stream needs -15.
        for wbits in (47, -15) if coding == "deflate" else (47,):
            inflater = zlib.decompressobj(wbits=wbits)
            try:
                decoded = inflater.decompress(body, MAX_BODY_BYTES + 1)
            except zlib.error:
                continue
            if len(decoded) > MAX_BODY_BYTES or inflater.unconsumed_tail:
                raise UnexpectedResponseError(
                    f"Unexpected response from the API: the body exceeded {MAX_BODY_BYTES // 1024} KiB decompressed."
                )
            body = decoded
            break
        else:
            raise UnexpectedResponseError(f"Unexpected response from the API: a {coding} body that does not decode.")
    return body


def _finite_or_none(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _int_or_none(text: str) -> int | None:
    # Python refuses to parse integers of more than 4,300 digits; no field needs more than a few.
    return int(text) if len(text) <= 30 else None


def _read_body(raw: bytes, content_encoding: str, status: int) -> Any:
    return _decode_json(_decompress(raw, content_encoding), status)


def _decode_json(raw: bytes, status: int) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=lambda _: None, parse_float=_finite_or_none, parse_int=_int_or_none)
    except (ValueError, UnicodeDecodeError, RecursionError):
        if status >= 400:
            return None
        raise UnexpectedResponseError(
            f"Unexpected response from the API: HTTP {status} with a body that is not JSON vin-mcp can read."
        ) from None


def _envelope(body: dict[str, Any]) -> Envelope:
    try:
        return Envelope.model_validate(body)
    except (ValidationError, RecursionError):
        return Envelope()


def _is_miss(words: re.Pattern[str], envelope: Envelope) -> bool:
    """The API's own miss: its envelope (no odd flags) and a message naming the vehicle, never a route."""
    message = envelope.message or ""
    return not envelope.odd and bool(words.search(message)) and not _ROUTE_WORDS.search(message)


def _raise_for_key(status: int, envelope: Envelope) -> None:
    failed = status >= 400 or envelope.error is True or envelope.success is False or envelope.odd
    if failed and envelope.message and _KEY_WORDS.search(envelope.message):
        raise AuthenticationError(f"AutoGrab refused the API key (HTTP {status}){_quoted(envelope)}.")


def _not_the_api(status: int, envelope: Envelope) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"Unexpected response: HTTP {status}{_quoted(envelope)}, which is not the AutoGrab API's answer about a "
        "vehicle.",
        "This is not a 'no match': nothing is known about the vehicle yet. Check that AUTOGRAB_BASE_URL points at "
        "the AutoGrab API, or try again later.",
    )


def _raise_for_envelope(status: int, envelope: Envelope) -> None:
    if status >= 400:
        raise BadRequestError(
            f"AutoGrab refused the request (HTTP {status}){_quoted(envelope)}.", _advice_for(envelope)
        )
    if envelope.odd:
        raise UpstreamFailedError(f"AutoGrab answered with flags that are not true or false{_quoted(envelope)}.")
    if envelope.error or envelope.success is False:
        raise UpstreamFailedError(f"AutoGrab answered with an error{_quoted(envelope)}.")


# What a 400 says decides what to do about it: a key or plan limit is the operator's to fix, not the VIN.
_ACCOUNT_WORDS = re.compile(r"\b(region|enabled|permission|plan|subscription|feature|quota|access)\b", re.I)
_VIN_WORDS = re.compile(r"\bvin\b", re.I)


def _advice_for(envelope: Envelope) -> str:
    message = envelope.message or ""
    if _ACCOUNT_WORDS.search(message):
        return (
            "The AutoGrab key is not allowed this request (region, feature or plan): ask AutoGrab to enable it, or "
            "use a region the key covers (the region argument or AUTOGRAB_REGION). This says nothing about the vehicle."
        )
    if _VIN_WORDS.search(message):
        return "Re-read the VIN from the registration papers or the windscreen plate and try again."
    return (
        "AutoGrab refused the request as sent; this is not a 'no match'. If it repeats, pass AutoGrab's message "
        "to the vin-mcp maintainers."
    )


def _quoted(envelope: Envelope) -> str:
    return f": {json.dumps(envelope.message.rstrip('.'), ensure_ascii=False)}" if envelope.message else ""


async def _off_loop(size: int, work: Callable[[], _T]) -> _T:
    """Decoding and validating a large body takes milliseconds of CPU: done in a worker thread, so one hostile
    answer cannot hold up every other call's event loop (and make them time out after being billed)."""
    if size <= OFF_LOOP_BYTES:
        return work()
    return await anyio.to_thread.run_sync(work)


async def _parse(model: type[_Payload], body: dict[str, Any], size: int) -> _Payload:
    return await _off_loop(size, functools.partial(_validate, model, body))


def _validate(model: type[_Payload], body: dict[str, Any]) -> _Payload:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in err["loc"]) for err in exc.errors()})[:5]
        raise UnexpectedResponseError(
            f"Unexpected response from the API: fields {', '.join(fields)} are not in the documented form."
        ) from None
    except RecursionError:
        raise UnexpectedResponseError("Unexpected response from the API: the body is nested too deeply.") from None
