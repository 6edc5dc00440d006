"""Factory build data: the codes kept once (``build_facts``), and each page of them shaped into an answer. No I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vin_mcp.answers.limits import MAX_BUILD_CODES_LIMIT
from vin_mcp.answers.models import BuildDataAnswer, BuildFacts
from vin_mcp.answers.wording import NO_BUILD_DATA_NOTE, TEST_DATA_NOTE, page_note
from vin_mcp.vin.rules import VinDecode

if TYPE_CHECKING:  # the vendor's models are loaded by the first paid call, not at start
    from vin_mcp.autograb.payloads import BuildDataResponse


def build_facts(response: BuildDataResponse) -> BuildFacts:
    """The build data worth keeping: codes as "code: description" lines, cleaned once at parse."""
    vehicle = response.vehicle
    if vehicle is None:
        return BuildFacts(found=False, test_data=response.test_data)
    return BuildFacts(
        found=True,
        test_data=response.test_data,
        build_date=vehicle.build_date,
        make=vehicle.make,
        model=vehicle.model,
        codes=[f"{f.code}: {f.value}" if f.value else f.code for f in vehicle.features if f.code],
        codes_sent=vehicle.features_sent,
    )


def build_data_answer(
    decode: VinDecode,
    region: str,
    facts: BuildFacts,
    *,
    search: str | None,
    limit: int,
    offset: int,
) -> BuildDataAnswer:
    if not facts.found:
        return BuildDataAnswer(
            status="not_available",
            vin=decode.vin,
            region=region,
            note=f"{NO_BUILD_DATA_NOTE} {TEST_DATA_NOTE}" if facts.test_data else NO_BUILD_DATA_NOTE,
        )
    codes = facts.codes
    wanted = codes
    if search:
        needle = search.casefold()
        wanted = [line for line in codes if needle in line.casefold()]
    page = wanted[offset : offset + limit]
    next_offset = offset + limit if offset + limit < len(wanted) else None
    note = page_note(
        search=search,
        offset=offset,
        shown=len(page),
        matching=len(wanted),
        next_offset=next_offset,
        sent=facts.codes_sent,
        kept=len(codes),
        max_limit=MAX_BUILD_CODES_LIMIT,
    )
    return BuildDataAnswer(
        status="found",
        vin=decode.vin,
        region=region,
        build_date=facts.build_date,
        make=facts.make,
        model=facts.model,
        total_codes=len(codes),
        matching_codes=len(wanted) if search else None,
        codes=page,
        next_offset=next_offset,
        note=f"{note} {TEST_DATA_NOTE}" if facts.test_data else note,
    )
