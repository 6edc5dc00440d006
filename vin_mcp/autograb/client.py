"""The AutoGrab v2 client: one request per call, retries, rate-limit pacing; what answers mean is in ``outcomes``,
how bodies are read in ``body``, the fixed numbers in ``constants``.

Knows HTTP and the vendor's payloads; knows nothing of MCP. Every failure leaves as one of the ``UpstreamError``
classes in ``errors``; a miss comes back as a payload with ``vehicle=None``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio
import httpcore
import httpx

from vin_mcp.autograb import outcomes
from vin_mcp.autograb.body import envelope_of, parse, read_body
from vin_mcp.autograb.config import AutoGrabConfig
from vin_mcp.autograb.connections import Attempt, BodyTooLarge, Headers, Reply
from vin_mcp.autograb.constants import (
    BACKOFF_BASE_SECONDS,
    MAX_BODY_BYTES,
    MAX_RATE_LIMIT_WAIT_SECONDS,
    MAX_RATE_LIMIT_WAITS,
    MAX_RETRIES,
    RETRY_BUDGET_SECONDS,
    RETRYABLE_STATUSES,
    TEST_DATA_HEADER,
    USER_AGENT,
)
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.autograb.network import UntrustedCertificate
from vin_mcp.autograb.pacing import RateLimitPacer
from vin_mcp.autograb.payloads import BuildDataResponse, SearchResponse
from vin_mcp.autograb.routes import build_data_route, search_route
from vin_mcp.autograb.text import clean_text
from vin_mcp.autograb.transport import Connections, Transports
from vin_mcp.errors import (
    AuthenticationError,
    BadRequestError,
    MissingApiKeyError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    UpstreamError,
    UpstreamTimeoutError,
)

__all__ = ["TEST_DATA_HEADER", "AutoGrabClient"]
logger = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    test_data: bool  # served by vin-mcp's own fake of the API
    size: int


class AutoGrabClient:
    """Calls AutoGrab through shared connections, direct or through a proxy (``autograb.transport``)."""

    def __init__(
        self,
        http: Transports,
        config: AutoGrabConfig,
        *,
        sleep: Sleep = anyio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pacer: RateLimitPacer | None = None,
    ) -> None:
        self._http = http
        self._config = config
        self._sleep = sleep
        self._monotonic = monotonic
        self.pacer = pacer or RateLimitPacer(monotonic=monotonic, sleep=sleep)
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"AutoGrabClient({self._config!r})"

    async def search(self, request: LookupRequest) -> SearchResponse:
        """A VIN or plate search (the request's search checked, its region resolved)."""
        assert request.region is not None
        path, params = search_route(request.search)
        params = {"region": request.region, **params}
        if request.include_extended_data:
            params["features"] = "additional_upstream_data"
        if request.prefer_more_results:
            params["prefer_more_results"] = "true"
        if request.reference_id:
            params["reference_id"] = request.reference_id
        reply = await self._get(path, request.region, params)
        envelope = envelope_of(reply.body)
        outcomes.raise_for_key(reply.status, envelope)
        if reply.status == 404:
            if outcomes.is_miss(outcomes.NOT_FOUND, envelope):
                # The API's miss; its body may still carry the registration authority's description.
                miss = {**reply.body, "vehicle": None, "additional_vehicles": []}
                return (await parse(SearchResponse, miss, reply.size)).marked(reply.test_data)
            raise outcomes.not_the_api(reply.status, envelope)
        outcomes.raise_for_envelope(reply.status, envelope)
        return (await parse(SearchResponse, reply.body, reply.size)).marked(reply.test_data)

    async def build_data(self, vin: str, region: str) -> BuildDataResponse:
        """Factory build data. No build data for the VIN comes back as ``vehicle=None``."""
        reply = await self._get(build_data_route(vin), region, {"region": region})
        envelope = envelope_of(reply.body)
        outcomes.raise_for_key(reply.status, envelope)
        # The build-data errors' status codes are undocumented: key off the body.
        documented = envelope.error is True and reply.status in (200, 400, 404, 422)
        if documented and outcomes.is_miss(outcomes.NO_BUILD_DATA, envelope):
            return BuildDataResponse(vehicle=None).marked(reply.test_data)
        if reply.status == 404:
            raise outcomes.not_the_api(reply.status, envelope)
        outcomes.raise_for_envelope(reply.status, envelope)
        return (await parse(BuildDataResponse, reply.body, reply.size)).marked(reply.test_data)

    async def _get(self, path: str, region: str, params: dict[str, str]) -> _Reply:
        """The answer's JSON object: retried, paced and bounded; anything else raises."""
        if self._config.api_key is None:
            raise MissingApiKeyError("AUTOGRAB_API_KEY is not set, so AutoGrab cannot be asked.")
        base_url = self._config.base_url_for(region)
        # Encoded here, once per call; retries send the same request.
        target = f"{path}?{urlencode(params)}"
        connections = self._http.for_base_url(base_url)
        headers = [
            (b"Host", urlsplit(base_url).netloc.rpartition("@")[2].encode()),
            (b"User-Agent", USER_AGENT.encode()),
            (b"ApiKey", self._config.api_key.get_secret_value().encode()),
            (b"Accept", b"application/json"),
            # Compressed bodies are decoded by hand under the size cap (body.py).
            (b"Accept-Encoding", b"identity"),
        ]
        deadline = self._monotonic() + RETRY_BUDGET_SECONDS
        waits_left = [MAX_RATE_LIMIT_WAITS]
        failures = 0
        while True:
            attempt = await self._attempt(connections, base_url, target, headers, deadline, waits_left)
            if isinstance(attempt, UpstreamError):  # could not connect: nothing reached the API, so retry
                failures += 1
                await self._backoff_or_raise(attempt, failures, deadline)
                continue
            status, response_headers, raw = attempt
            logger.debug("AutoGrab %s -> HTTP %s", path, status)
            if status == 429:
                wait = self.pacer.closed_for()
                if waits_left[0] <= 0 or wait > MAX_RATE_LIMIT_WAIT_SECONDS or self._monotonic() + wait > deadline:
                    raise outcomes.rate_limited(wait)
                continue  # the next turn waits for the window to reopen
            if status in (401, 403):
                raise AuthenticationError(f"AutoGrab rejected the API key (HTTP {status}).")
            if status in RETRYABLE_STATUSES:
                failures += 1
                error = ServiceUnavailableError(
                    f"AutoGrab is unavailable (HTTP {status}, {failures} attempt{'s' if failures > 1 else ''})."
                )
                await self._backoff_or_raise(error, failures, deadline)
                continue
            body = await read_body(raw, response_headers.get("content-encoding", ""), status)
            return _reply(status, body, TEST_DATA_HEADER in response_headers, len(raw))

    async def _attempt(
        self,
        connections: Connections,
        base_url: str,
        target: str,
        headers: Headers,
        deadline: float,
        waits_left: list[int],
    ) -> tuple[int, httpx.Headers, bytes] | UpstreamError:
        """One request in its turn of the rate-limit window; a failure to connect comes back, every other raises."""
        await self.pacer.sync()
        result: tuple[int, httpx.Headers, bytes] | UpstreamError
        url = base_url + target
        async with self.pacer.turn(deadline, MAX_RATE_LIMIT_WAIT_SECONDS, waits_left) as refusal:
            if refusal is not None:
                raise outcomes.rate_limited(refusal.wait)
            try:
                reply = await self._send(connections, base_url, target, headers)
                result = reply.status, httpx.Headers(reply.headers), reply.body
            except (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout) as exc:
                if isinstance(exc, UntrustedCertificate):  # trying again cannot help
                    raise _untrusted(url, exc.verify_message) from exc
                result = self._connect_failure(url, exc)  # backed off outside the turn
            except (httpcore.TimeoutException, TimeoutError) as exc:
                # The API may have done (and billed) the search: do not send it again.
                raise UpstreamTimeoutError(
                    f"AutoGrab did not answer within {self._config.timeout:g} seconds (AUTOGRAB_TIMEOUT)."
                ) from exc
            except BodyTooLarge as exc:
                raise UnexpectedResponseError(
                    f"Unexpected response from the API: the body exceeded {MAX_BODY_BYTES // 1024} KiB."
                ) from exc
            except (
                httpcore.NetworkError,
                httpcore.ProtocolError,
                httpcore.ProxyError,
                httpcore.UnsupportedProtocol,
            ) as exc:
                raise ServiceUnavailableError(
                    f"The connection to AutoGrab broke while it was answering ({type(exc).__name__}).",
                    "Try again in a moment; the answer was not received.",
                ) from exc
            else:
                self.pacer.learn(result[0], result[1])
        await self.pacer.share()
        return result

    def _connect_failure(self, url: str, exc: Exception) -> ServiceUnavailableError:
        """With AUTOGRAB_BASE_URL set, a refused connection is far more often that address than an outage."""
        if self._config.base_url is None:
            return ServiceUnavailableError(f"Could not connect to AutoGrab ({type(exc).__name__}).")
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return ServiceUnavailableError(
            f"Could not connect to {where}, the address AUTOGRAB_BASE_URL gives ({type(exc).__name__}).",
            "Check AUTOGRAB_BASE_URL (or unset it to use AutoGrab's own address) and any proxy setting "
            "(HTTPS_PROXY); this is not a 'no match'.",
        )

    async def _send(self, connections: Connections, base_url: str, target: str, headers: Headers) -> Reply:
        """One attempt, connection to last byte, within AUTOGRAB_TIMEOUT: the sockets keep no timer per read
        (``network``), so this bound is what ends a body trickled a byte at a time."""
        self.requests_sent += 1
        attempt = Attempt(connect_timeout=self._config.timeout)
        try:
            with anyio.fail_after(self._config.timeout):
                return await connections.get(base_url, target, headers, attempt)
        except TimeoutError:
            if not attempt.sent:  # still connecting: nothing reached the API, so it is safe to retry
                raise httpcore.ConnectTimeout(f"no connection within {self._config.timeout:g} s") from None
            raise

    async def _backoff_or_raise(self, error: UpstreamError, failures: int, deadline: float) -> None:
        delay = BACKOFF_BASE_SECONDS * 2 ** (failures - 1) * random.uniform(0.5, 1.5)
        if failures > MAX_RETRIES or self._monotonic() + delay > deadline:
            raise error
        logger.debug("%s Retrying in %.2f s", error.message, delay)
        await self._sleep(delay)


def _untrusted(url: str, verify_message: str) -> ServiceUnavailableError:
    parts = urlsplit(url)
    reason = clean_text(verify_message, 100)
    return ServiceUnavailableError(
        f"The TLS certificate of {parts.scheme}://{parts.netloc.rpartition('@')[2]} is not trusted ({reason}); "
        "nothing was sent.",
        "If a proxy re-signs TLS, point SSL_CERT_FILE at a bundle that includes its certificate, then restart "
        "the server; this is not a 'no match'.",
    )


def _reply(status: int, body: Any, test_data: bool, size: int) -> _Reply:
    """The body as an endpoint reads it; statuses and bodies no endpoint can read raise here."""
    if status >= 400 and isinstance(body, dict):
        # Error statuses are partly undocumented: the endpoint reads the body to decide.
        return _Reply(status, body, test_data, size)
    if status == 404:
        raise UnexpectedResponseError(
            "Unexpected response: HTTP 404 without a JSON body, so not from the AutoGrab API."
        )
    if status >= 400:
        raise BadRequestError(f"AutoGrab refused the request (HTTP {status}).")
    if status >= 300 or not isinstance(body, dict):
        raise UnexpectedResponseError(f"Unexpected response from the API (HTTP {status}, not a JSON object).")
    return _Reply(status, body, test_data, size)
