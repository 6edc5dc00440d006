"""Turning AutoGrab payloads into condensed, confidence-annotated answers. No I/O.

The rules themselves are in ``confidence``; the sentences in ``wording``.
"""

from __future__ import annotations

from vin_mcp.answers import confidence, registry
from vin_mcp.answers.models import (
    BuildDataAnswer,
    BuildFacts,
    Confidence,
    LookupAnswer,
    LookupFacts,
    LookupStatus,
    Vehicle,
    VinFacts,
    WriteOff,
    year_of,
)
from vin_mcp.answers.render import candidate_line
from vin_mcp.answers.wording import (
    CURRENCIES,
    EXTENDED_MISSING_NOTE,
    NO_BUILD_DATA_NOTE,
    NOTED_ADVICE,
    OPTIONS_FITTED,
    OPTIONS_FITTED_BUILD_DATA,
    TEST_DATA_NOTE,
    WRITE_OFF_ADVICE,
    advice,
    finding_sentence,
    page_note,
    record_disagreement,
)
from vin_mcp.autograb.payloads import BuildDataResponse, VendorVehicle, VinSearchResponse
from vin_mcp.vin.makes import BUILD_DATA_FIRST_YEAR, build_data_covers
from vin_mcp.vin.rules import VinDecode


def lookup_answer(
    decode: VinDecode,
    region: str,
    response: VinSearchResponse,
    *,
    extended_requested: bool = False,
) -> LookupAnswer:
    return lookup_facts(decode, region, response, extended_requested=extended_requested).answer


def lookup_facts(
    decode: VinDecode,
    region: str,
    response: VinSearchResponse,
    *,
    extended_requested: bool = False,
) -> LookupFacts:
    def condensed(raw: VendorVehicle) -> Vehicle:
        return Vehicle.from_vendor(raw, currency=CURRENCIES[region], fitted=options_fitted(decode, raw))

    match = condensed(response.vehicle) if response.vehicle else None
    listed = [
        (line, vehicle) for vehicle in map(condensed, response.additional_vehicles) if (line := candidate_line(vehicle))
    ]
    others = [line for line, _ in listed]
    assessment = assess_match(decode, response, match, len(others))

    notes = [TEST_DATA_NOTE] if response.test_data else []
    extended = response.registration_data if extended_requested else None
    if extended_requested and not extended:
        notes.append(EXTENDED_MISSING_NOTE)
    write_off = WriteOff.from_vendor(response.writeoff_info) if match or response.writeoff_info else None
    disagrees = record_disagreements(extended, match, response.colour)
    advice_text = advice(assessment)
    if disagrees and assessment.advice == "state":
        advice_text = f"{advice_text} {NOTED_ADVICE}"
    if write_off is not None and write_off.incidents:
        advice_text = f"{advice_text} {WRITE_OFF_ADVICE}"

    if others:
        # Every vehicle in play is numbered, best first: AutoGrab's own match leads the list, and no single
        # vehicle is shown apart from it as if it were the answer.
        status: LookupStatus = "candidates"
        candidates = ([candidate_line(match)] if match else []) + others
        in_play = ([match] if match else []) + [vehicle for _, vehicle in listed]
        vehicle = unconfirmed = None
    else:
        candidates, in_play = [], []
        status = "no_match" if match is None else "unconfirmed" if assessment.advice == "unconfirmed" else "matched"
        vehicle, unconfirmed = (None, match) if status == "unconfirmed" else (match, None)
    sure = status == "matched" and assessment.level == "high"
    answer = LookupAnswer(
        status=status,
        vin=decode.vin,
        region=region,
        vehicle=vehicle,
        unconfirmed_vehicle=unconfirmed,
        candidates=candidates,
        confidence=Confidence(
            level=assessment.level,
            autograb=response.confidence,
            reasons=[finding_sentence(finding) for finding in assessment.findings],
            advice=advice_text,
        ),
        # Behind a sure match the registry text only repeats the vehicle (its maker and year were checked).
        registry_description_unverified=None if sure and not assessment.findings else response.upstream_vehicle,
        colour=response.colour,
        write_off=write_off,
        registration_record=extended,
        registration_record_disagrees=disagrees,
        vin_decode=None if sure else VinFacts.from_decode(decode),
        note=" ".join(notes) or None,
    )
    return LookupFacts(answer=answer, candidate_vehicles=in_play)


def offline_answer(decode: VinDecode, region: str) -> LookupAnswer:
    return LookupAnswer(
        status="vin_decode_only",
        vin=decode.vin,
        region=region,
        confidence=Confidence(
            level=confidence.OFFLINE.level,
            reasons=[finding_sentence(finding) for finding in confidence.OFFLINE.findings],
            advice=advice(confidence.OFFLINE),
        ),
        vin_decode=VinFacts.from_decode(decode),
    )


def assess_match(
    decode: VinDecode, response: VinSearchResponse, match: Vehicle | None, candidates: int
) -> confidence.Assessment:
    """The rules (``confidence``) applied to this answer."""
    return confidence.assess(
        vendor_confidence=response.confidence,
        matched=match is not None,
        candidates=candidates,
        check_digit=decode.check_digit,
        expected_check_digit=decode.expected_check_digit,
        wmi=decode.wmi,
        vin_maker=decode.manufacturer,
        matched_make=match.make if match else None,
        vin_years=decode.model_years,
        matched_year=match.year if match else None,
        registry_text=response.upstream_vehicle,
        colour=response.colour,
    )


def options_fitted(decode: VinDecode, raw: VendorVehicle) -> str:
    """What the option list means, and whether factory build data can say which packs were fitted."""
    year = year_of(raw.year) or (decode.model_years[0] if decode.model_years else None)
    covered = build_data_covers(raw.make) or build_data_covers(decode.manufacturer)
    if covered and (year is None or year >= BUILD_DATA_FIRST_YEAR):
        return OPTIONS_FITTED_BUILD_DATA
    return OPTIONS_FITTED


def record_disagreements(record: dict[str, str] | None, vehicle: Vehicle | None, colour: str | None) -> list[str]:
    """Where the registration record and the match name different things (make, body, colour)."""
    if not record or vehicle is None:
        return []
    found: list[str] = []
    for topic, words, ours in (
        ("make", ("make",), vehicle.make),
        ("body", ("body",), vehicle.body),
        ("colour", ("colo",), colour),
    ):
        theirs = next((value for key, value in record.items() if any(word in key.lower() for word in words)), None)
        if theirs and ours and not _same_thing(theirs, ours):
            found.append(record_disagreement(topic, theirs, ours))
    return found


def _same_thing(left: str, right: str) -> bool:
    """Registry spellings are terse ("VOLKS" for Volkswagen): one contains the other, ignoring case and punctuation.

    Colours are compared by family when both name one ("SILVER" and "Grey Metallic" can be the same paint).
    """
    left_colours, right_colours = registry.colours(left), registry.colours(right)
    if left_colours and right_colours:
        return bool(left_colours & right_colours)
    a, b = ("".join(ch for ch in text.lower() if ch.isalnum()) for text in (left, right))
    return bool(a and b) and (a in b or b in a)


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
