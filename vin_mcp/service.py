"""What each tool does, independent of MCP: validate, decode, consult the cache, ask AutoGrab once.

Used by the MCP tools and by the command line alike, so both give the same answers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

import httpx

from . import __version__
from .answers import BuildDataAnswer, LookupAnswer, Provenance
from .assess import build_data_answer, lookup_answer, offline_answer
from .brands import BUILD_DATA_FIRST_YEAR, build_data_covers
from .cache import Cached, SingleFlightCache
from .client import USER_AGENT, AutoGrabClient
from .errors import InvalidArgumentError, MissingApiKeyError, NotCoveredError
from .sanitise import clean_text
from .settings import REGIONS, Settings
from .upstream import BuildDataResponse, VinSearchResponse
from .vin import VinDecode, decode_vin, validate_vin

DEFAULT_BUILD_CODES_LIMIT = 40
MAX_BUILD_CODES_LIMIT = 200
# A miss is billed too, but the vehicle may be registered soon after: keep it briefly.
NO_MATCH_TTL_SECONDS = 600.0
# Cache keys: (endpoint, VIN, region, extended data?, more candidates?)
_LookupKey = tuple[Literal["lookup"], str, str, bool, bool]


class VinService:
    """The two operations, with one shared cache per process."""

    def __init__(self, settings: Settings, client: AutoGrabClient | None) -> None:
        self.settings = settings
        self.client = client
        ttl = settings.cache_ttl

        def lookup_ttl(response: VinSearchResponse) -> float:
            return ttl if response.vehicle or response.additional_vehicles else min(ttl, NO_MATCH_TTL_SECONDS)

        def build_ttl(response: BuildDataResponse) -> float:
            return ttl if response.vehicle else min(ttl, NO_MATCH_TTL_SECONDS)

        self._lookups: SingleFlightCache[VinSearchResponse] = SingleFlightCache(settings.cache_size, lookup_ttl)
        self._builds: SingleFlightCache[BuildDataResponse] = SingleFlightCache(settings.cache_size, build_ttl)
        self._answers: OrderedDict[tuple[int, bool], tuple[VinSearchResponse, LookupAnswer]] = OrderedDict()

    async def lookup(
        self,
        vin: str,
        region: str | None = None,
        *,
        include_extended_data: bool = False,
        prefer_more_results: bool = False,
        reference_id: str | None = None,
    ) -> LookupAnswer:
        normalised = validate_vin(vin)
        chosen_region = self._region(region)
        decode = decode_vin(normalised)
        client = self.client
        if client is None:
            return offline_answer(decode, chosen_region)

        key: _LookupKey = ("lookup", normalised, chosen_region, include_extended_data, prefer_more_results)
        # An answer fetched with extended data also answers the same question without it.
        wider: _LookupKey = ("lookup", normalised, chosen_region, True, prefer_more_results)
        cached = None if include_extended_data else self._lookups.peek(wider)
        if cached is None:
            tag = reference_id or self.settings.reference_id
            cached = await self._lookups.get(
                key,
                lambda: client.search_vin(
                    normalised,
                    chosen_region,
                    extended_data=include_extended_data,
                    prefer_more_results=prefer_more_results,
                    reference_id=clean_text(tag, 100) if tag else None,
                ),
            )
        answer = self._assessed(cached.value, decode, chosen_region, include_extended_data).model_copy()
        answer.provenance = _provenance(cached)
        return answer

    def _assessed(self, response: VinSearchResponse, decode: VinDecode, region: str, extended: bool) -> LookupAnswer:
        """The answer built from a response, built once per cached response rather than on every hit."""
        memo_key = (id(response), extended)
        memo = self._answers.get(memo_key)
        # The response itself is kept beside the answer, so its id cannot be reused by another object.
        if memo is not None and memo[0] is response:
            self._answers.move_to_end(memo_key)
            return memo[1]
        answer = lookup_answer(decode, region, response, extended_requested=extended)
        self._answers[memo_key] = (response, answer)
        while len(self._answers) > self.settings.cache_size:
            self._answers.popitem(last=False)
        return answer

    async def build_data(
        self,
        vin: str,
        region: str | None = None,
        *,
        search: str | None = None,
        limit: int = DEFAULT_BUILD_CODES_LIMIT,
        offset: int = 0,
    ) -> BuildDataAnswer:
        normalised = validate_vin(vin)
        chosen_region = self._region(region)
        if not 1 <= limit <= MAX_BUILD_CODES_LIMIT:
            raise InvalidArgumentError(f"limit is {limit}; use 1 to {MAX_BUILD_CODES_LIMIT}.")
        if offset < 0:
            raise InvalidArgumentError(f"offset is {offset}; use 0 or more.")
        decode = decode_vin(normalised)
        _refuse_if_not_covered(decode)
        client = self.client
        if client is None:
            raise MissingApiKeyError("Factory build data needs AUTOGRAB_API_KEY, which is not set.")
        cached = await self._builds.get(
            ("build", normalised, chosen_region), lambda: client.build_data(normalised, chosen_region)
        )
        answer = build_data_answer(
            decode, chosen_region, cached.value, search=(search or "").strip() or None, limit=limit, offset=offset
        )
        answer.provenance = _provenance(cached)
        return answer

    def _region(self, region: str | None) -> str:
        if region is None or not region.strip():
            return self.settings.region
        chosen = region.strip().lower()
        if chosen not in REGIONS:
            raise InvalidArgumentError(f"region is {clean_text(region, 20)!r}; use one of {', '.join(REGIONS)}.")
        return chosen


def _refuse_if_not_covered(decode: VinDecode) -> None:
    """Build data exists only for some makes from 1999 on: say so rather than pay to be told."""
    if build_data_covers(decode.manufacturer) is False:
        raise NotCoveredError(
            f"AutoGrab has no factory build data for {decode.manufacturer} vehicles "
            f"(VIN manufacturer code {decode.wmi}); nothing was charged."
        )
    if decode.model_years and decode.model_years[0] < BUILD_DATA_FIRST_YEAR:
        raise NotCoveredError(
            f"This VIN encodes model year {decode.model_years[0]}; factory build data covers vehicles "
            f"built from {BUILD_DATA_FIRST_YEAR} on. Nothing was charged."
        )


def _provenance(cached: Cached[object]) -> Provenance:
    fetched = datetime.fromtimestamp(cached.fetched_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Provenance(cached=cached.from_cache, fetched_at=fetched)


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[VinService]:
    """The one service of a process, with its one HTTP connection pool (none without a key)."""
    if settings.api_key is None:
        yield VinService(settings, None)
        return
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout),
        headers={"User-Agent": f"{USER_AGENT}/{__version__}"},
        follow_redirects=False,
    ) as http:
        yield VinService(settings, AutoGrabClient(http, settings))
