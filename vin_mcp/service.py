"""What each tool does, independent of MCP: validate, decode, consult the cache, ask AutoGrab once.

Used by the MCP tools and by the command line alike, so both give the same answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Awaitable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import anyio
from anyio.abc import TaskGroup

from vin_mcp.answers.limits import DEFAULT_BUILD_CODES_LIMIT, MAX_BUILD_CODES_LIMIT
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.errors import ConfigurationError, InvalidArgumentError, MissingApiKeyError, ShuttingDownError
from vin_mcp.settings import REGIONS, Settings
from vin_mcp.vin.identifiers import Search, VinSearch
from vin_mcp.vin.makes import BUILD_DATA_FIRST_YEAR, build_data_covers
from vin_mcp.vin.rules import VinDecode, decode_vin, validate_vin

# The answers layer (its models above all) and the cache are loaded by the first call, not while the server
# starts: hence the imports inside the methods below.
if TYPE_CHECKING:
    from vin_mcp.answers.models import BuildDataAnswer, BuildFacts, LookupAnswer, LookupFacts
    from vin_mcp.autograb.client import AutoGrabClient
    from vin_mcp.cache import SingleFlightCache
    from vin_mcp.shared_store import RedisStore

T = TypeVar("T")

# What ``region`` accepts from a caller, as the tools publish it: a code in any letter case, or "" for the default.
REGION_PATTERN = "^([Aa][Uu]|[Nn][Zz]|[Uu][Kk])?$"
REGION_ADVICE = (
    f"use {', '.join(REGIONS[:-1])} or {REGIONS[-1]} (any letter case), or leave it out for the server's default"
)
# A miss is billed too, but the vehicle may be registered soon after: keep it briefly.
NO_MATCH_TTL_SECONDS = 600.0
# The most one cached entry can weigh, given the payload caps in ``autograb.payloads``: every capped field full
# of three-byte characters makes about 293 KiB (the answer and its candidate vehicles) and 416 KiB
# (tests/test_hostile.py builds that response). The cache refuses anything heavier.
MAX_LOOKUP_ENTRY_BYTES = 320 * 1024
MAX_BUILD_ENTRY_BYTES = 512 * 1024


class VinService:
    """The two operations, with one shared cache per process. Paid fetches run in ``task_group``."""

    def __init__(
        self,
        settings: Settings,
        task_group: TaskGroup,
        resources: AsyncExitStack,
        *,
        unusable: ConfigurationError | None = None,
        store: RedisStore | None = None,
    ) -> None:
        self.settings = settings
        # Shared by replicas (VIN_MCP_REDIS_URL): answers, who is paying for which, the rate-limit window.
        self.store = store
        # A setting that could not be read: every call says so, in the one line that names the fix.
        self.unusable = unusable
        self._resources = resources
        self._client: AutoGrabClient | None = None
        # Calls being answered (each in its own cancel scope), and whether the server is shutting down.
        self._calls: set[anyio.CancelScope] = set()
        self._calls_done: anyio.Event | None = None
        self.closing = False
        self._task_group = task_group

    @functools.cached_property
    def lookups(self) -> SingleFlightCache[LookupFacts]:
        from vin_mcp.answers.models import LookupFacts
        from vin_mcp.cache import SingleFlightCache

        ttl = self.settings.cache_ttl

        def lookup_ttl(facts: LookupFacts) -> float:
            return ttl if facts.match or facts.others else min(ttl, NO_MATCH_TTL_SECONDS)

        return SingleFlightCache(
            LookupFacts,
            self._task_group,
            max_entries=self.settings.cache_size,
            ttl_for=lookup_ttl,
            max_entry_bytes=MAX_LOOKUP_ENTRY_BYTES,
            shared=self.store,
        )

    @functools.cached_property
    def builds(self) -> SingleFlightCache[BuildFacts]:
        from vin_mcp.answers.models import BuildFacts
        from vin_mcp.cache import SingleFlightCache

        ttl = self.settings.cache_ttl

        def build_ttl(facts: BuildFacts) -> float:
            return ttl if facts.found else min(ttl, NO_MATCH_TTL_SECONDS)

        return SingleFlightCache(
            BuildFacts,
            self._task_group,
            max_entries=self.settings.cache_size,
            ttl_for=build_ttl,
            max_entry_bytes=MAX_BUILD_ENTRY_BYTES,
            shared=self.store,
        )

    async def lookup(self, request: LookupRequest | str) -> LookupAnswer:
        """Answer a lookup (a bare VIN asks with every option at its default)."""
        from vin_mcp.answers.lookup import lookup_answer

        return lookup_answer(await self.lookup_facts(request))

    async def lookup_facts(self, request: LookupRequest | str) -> LookupFacts:
        """What the lookup found (``answers.lookup`` shapes every answer from it, a person's reply included)."""
        from vin_mcp.answers.lookup import lookup_facts, without_record
        from vin_mcp.answers.models import LookupFacts

        if self.unusable is not None:
            raise self.unusable
        asked = LookupRequest(search=VinSearch.parse(request)) if isinstance(request, str) else request
        region = self.region(asked.region)
        search = asked.search
        if self.settings.api_key is None:
            if search.searched_vin is None:
                raise MissingApiKeyError(f"A {search.noun()} search needs AUTOGRAB_API_KEY, which is not set.")
            return LookupFacts(search=search, region=region, vin=search.searched_vin, offline=True)
        client = self.client()
        extended, more = asked.include_extended_data, asked.prefer_more_results
        ready = asked.model_copy(
            update={"region": region, "reference_id": asked.reference_id or self.settings.reference_id}
        )
        key = _lookup_key(search, region, extended, more)
        # An answer fetched with extended data also answers the same question without it.
        wider = self.lookups.peek(_lookup_key(search, region, True, more)) if not extended else None
        if wider is not None:
            cached, facts = wider, without_record(wider.value)
        else:

            async def fetch() -> LookupFacts:
                return lookup_facts(search, region, await client.search(ready), extended=extended)

            cached = await self.lookups.get(key, fetch)
            facts = cached.value
        facts.cached_minutes_ago = self.lookups.minutes_old(cached)
        return facts

    async def settled(self, request: LookupRequest, choice: str) -> LookupAnswer:
        """The answer the person's ``choice`` makes of a lookup already answered (a vehicle card's pick), from
        the cache only: a pick never pays for a second search."""
        from vin_mcp.answers.choice import question_for, settle
        from vin_mcp.answers.lookup import without_record

        region = self.region(request.region)
        search, more = request.search, request.prefer_more_results
        found = None
        for extended in (request.include_extended_data, True):
            found = found or await self.lookups.find(_lookup_key(search, region, extended, more))
        if found is None:
            raise InvalidArgumentError(
                f"That {search.noun()} lookup is no longer at hand, so a pick cannot be applied to it.",
                "Look the vehicle up again (from the cache if it is there), then pick.",
            )
        facts = found.value if request.include_extended_data else without_record(found.value)
        question = question_for(facts)
        if question is None or choice not in question.values():
            options = ", ".join(question.values()) if question else "none: nothing to settle"
            raise InvalidArgumentError(f"choice is {choice[:10]!r}; this lookup takes {options}.")
        answer = settle(facts, question, choice)
        answer.cached_minutes_ago = self.lookups.minutes_old(found)
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
        from vin_mcp.answers.build_data import build_data_answer, build_facts
        from vin_mcp.answers.models import BuildDataAnswer

        if self.unusable is not None:
            raise self.unusable
        normalised = validate_vin(vin)
        chosen_region = self.region(region)
        if not 1 <= limit <= MAX_BUILD_CODES_LIMIT:
            raise InvalidArgumentError(f"limit is {limit}; use 1 to {MAX_BUILD_CODES_LIMIT}.")
        if offset < 0:
            raise InvalidArgumentError(f"offset is {offset}; use 0 or more.")
        decode = decode_vin(normalised)
        reason = _not_covered(decode)
        if reason is not None:  # said without asking AutoGrab: build data cannot exist for this VIN
            return BuildDataAnswer(status="not_available", vin=normalised, region=chosen_region, note=reason)
        if self.settings.api_key is None:
            raise MissingApiKeyError("Factory build data needs AUTOGRAB_API_KEY, which is not set.")
        client = self.client()

        async def fetch() -> BuildFacts:
            return build_facts(await client.build_data(normalised, chosen_region))

        cached = await self.builds.get(("build", normalised, chosen_region), fetch)
        answer = build_data_answer(
            decode, chosen_region, cached.value, search=(search or "").strip() or None, limit=limit, offset=offset
        )
        answer.cached_minutes_ago = self.builds.minutes_old(cached)
        return answer

    async def guarded(self, call: Awaitable[T]) -> T:
        """Run one call of a tool so that shutdown can answer it (``give_up``) instead of cutting it off."""
        if self.closing:
            if isinstance(call, Coroutine):
                call.close()
            raise ShuttingDownError("vin-mcp is shutting down and takes no new calls.")
        with anyio.CancelScope() as scope:
            self._calls.add(scope)
            try:
                return await call
            finally:
                self._calls.discard(scope)
                if not self._calls and self._calls_done is not None:
                    self._calls_done.set()
        raise ShuttingDownError("vin-mcp is shutting down and could not finish this call in time.")

    def begin_shutdown(self) -> None:
        """From now on every new call is answered 'shutting down'; calls in flight go on."""
        self.closing = True

    async def drained(self, seconds: float) -> bool:
        """Wait until no call is in flight, at most ``seconds``; True if it got there."""
        with anyio.move_on_after(seconds):
            while self._calls:
                self._calls_done = anyio.Event()
                await self._calls_done.wait()
        return not self._calls

    def give_up(self) -> int:
        """Answer every call still in flight 'shutting down' (their paid requests are left to finish); how many."""
        for scope in self._calls:
            scope.cancel()
        return len(self._calls)

    def client(self) -> AutoGrabClient:
        """The AutoGrab client, built (with its connection pool) on the first paid call: starting the server
        and answering ``initialize`` never wait for httpx, TLS contexts or certificates."""
        if self._client is None:
            from vin_mcp.autograb.client import AutoGrabClient
            from vin_mcp.autograb.config import AutoGrabConfig
            from vin_mcp.autograb.pacing import RateLimitPacer
            from vin_mcp.autograb.transport import Transports

            # No await between the check and the assignment: concurrent first calls share one client (and its
            # rate-limit pacer).
            http = Transports()
            self._resources.push_async_callback(http.aclose)
            config = AutoGrabConfig.from_settings(self.settings)
            self._client = AutoGrabClient(http, config, pacer=RateLimitPacer(shared=self.store))
        return self._client

    def cache_backend(self) -> str:
        """For /health: "memory", or the shared store and whether it answers ("redis (up)")."""
        return "memory" if self.store is None else f"redis ({self.store.state})"

    def region(self, region: str | None) -> str:
        """The region a call asked for (any letter case), or the server's; a setting that could not be read first."""
        if self.unusable is not None:
            raise self.unusable
        if not region:
            return self.settings.region
        if not re.fullmatch(REGION_PATTERN, region):
            raise InvalidArgumentError(f"region is {region[:20]!r}; {REGION_ADVICE}.")
        return region.lower()


def _lookup_key(search: Search, region: str, extended: bool, more: bool) -> tuple[object, ...]:
    """A lookup's cache key: (endpoint, what was searched, region, extended data?, more candidates?)."""
    return ("lookup", *search.key(), region, extended, more)


def _not_covered(decode: VinDecode) -> str | None:
    """Why build data cannot exist for this VIN (some makes, from 1999 on), or None: known without paying."""
    from vin_mcp.answers.wording import not_covered_make, not_covered_year

    if build_data_covers(decode.manufacturer) is False:
        return not_covered_make(decode.manufacturer or decode.wmi, decode.wmi)
    if decode.model_years and decode.model_years[0] < BUILD_DATA_FIRST_YEAR:
        return not_covered_year(decode.model_years[0], BUILD_DATA_FIRST_YEAR)
    return None


@asynccontextmanager
async def open_service(settings: Settings, unusable: ConfigurationError | None = None) -> AsyncIterator[VinService]:
    """The one service of a process. Leaving it waits for paid requests still in flight, so their answers are
    not lost, then closes the HTTP connection pool (if a paid call ever opened one)."""
    async with AsyncExitStack() as resources:
        store = None
        if settings.redis_url is not None and settings.api_key is not None and unusable is None:
            store = _open_store(settings)
            resources.push_async_callback(store.aclose)
            await store.connect()
        failure: Exception | None = None
        async with anyio.create_task_group() as tasks:
            service = VinService(settings, tasks, resources, unusable=unusable, store=store)
            try:
                yield service
            except Exception as exc:
                # Raised by the caller, not by a fetch (fetches never raise): re-raised below as it is,
                # rather than wrapped in the task group's ExceptionGroup.
                failure = exc
            # Paid requests still under way get the shutdown bound to finish (and be cached), then are cut off;
            # after a SIGTERM the bound has already been spent on the calls in flight.
            wait = 0.0 if service.closing else settings.shutdown_seconds
            tasks.cancel_scope.deadline = anyio.current_time() + wait
        if failure is not None:
            raise failure


def _open_store(settings: Settings) -> RedisStore:
    """The Redis store; imported only here, so a server without VIN_MCP_REDIS_URL never loads redis."""
    from vin_mcp.autograb.constants import RETRY_BUDGET_SECONDS
    from vin_mcp.shared_store import RedisStore

    assert settings.redis_url is not None
    return RedisStore.from_url(
        settings.redis_url.get_secret_value(),
        settings.redis_password,
        settings.api_key,
        # A replica waits for another's answer no longer than a call of its own may take.
        wait_seconds=RETRY_BUDGET_SECONDS + settings.timeout,
    )
