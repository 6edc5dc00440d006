"""Turning AutoGrab payloads into condensed, confidence-annotated answers. No I/O.

The confidence rules live here: the vendor's own level, then the server's cross-checks of the
match against what the VIN itself encodes (check digit, manufacturer, model year).
"""

from __future__ import annotations

from vin_mcp.answers import confidence
from vin_mcp.answers.models import (
    BuildDataAnswer,
    BuildFacts,
    Confidence,
    LookupAnswer,
    Vehicle,
    WriteOff,
)
from vin_mcp.answers.render import candidate_line
from vin_mcp.answers.wording import (
    ADVICE,
    EXTENDED_MISSING_NOTE,
    NO_BUILD_DATA_NOTE,
    OFFLINE_NOTE,
    WRITE_OFF_ADVICE,
    finding_sentence,
    page_note,
    record_disagreement,
)
from vin_mcp.autograb.payloads import BuildDataResponse, VinSearchResponse
from vin_mcp.vin.rules import VinDecode


def lookup_answer(
    decode: VinDecode,
    region: str,
    response: VinSearchResponse,
    *,
    extended_requested: bool = False,
) -> LookupAnswer:
    vehicle = Vehicle.from_vendor(response.vehicle) if response.vehicle else None
    others = [candidate_line(Vehicle.from_vendor(v)) for v in response.additional_vehicles]
    others = [line for line in others if line]
    # Every vehicle in play is numbered, best first: AutoGrab's own match leads the list.
    candidates = ([candidate_line(vehicle)] if vehicle and others else []) + others
    status = "candidates" if others else "matched" if vehicle else "no_match"

    note = None
    extended = response.registration_data if extended_requested else None
    if extended_requested and not extended:
        note = EXTENDED_MISSING_NOTE

    confidence = assess_confidence(decode, response, vehicle, len(others))
    write_off = WriteOff.from_vendor(response.writeoff_info) if vehicle or response.writeoff_info else None
    if write_off is not None and write_off.incidents:
        confidence.advice = f"{confidence.advice} {WRITE_OFF_ADVICE}"
    return LookupAnswer(
        status=status,
        vin=decode.vin,
        region=region,
        vehicle=vehicle,
        confidence=confidence,
        registration_description=response.upstream_vehicle,
        colour=response.colour,
        write_off=write_off,
        registration_record=extended,
        record_disagrees=record_disagreements(extended, vehicle, response.colour),
        candidates=candidates,
        decode=decode,
        note=note,
    )


def offline_answer(decode: VinDecode, region: str) -> LookupAnswer:
    return LookupAnswer(
        status="offline",
        vin=decode.vin,
        region=region,
        confidence=Confidence(
            level=confidence.OFFLINE.level,
            reasons=[finding_sentence(finding) for finding in confidence.OFFLINE.findings],
            advice=ADVICE[confidence.OFFLINE.advice],
        ),
        decode=decode,
        note=OFFLINE_NOTE,
    )


def assess_confidence(
    decode: VinDecode, response: VinSearchResponse, vehicle: Vehicle | None, candidates: int
) -> Confidence:
    """The rules (``confidence``) applied to this answer, worded by the renderer."""
    result = confidence.assess(
        vendor_confidence=response.confidence,
        matched=vehicle is not None,
        candidates=candidates,
        check_digit=decode.check_digit,
        expected_check_digit=decode.expected_check_digit,
        wmi=decode.wmi,
        vin_maker=decode.manufacturer,
        matched_make=vehicle.make if vehicle else None,
        vin_years=decode.model_years,
        matched_year=vehicle.year if vehicle else None,
    )
    return Confidence(
        level=result.level,
        vendor=response.confidence,
        reasons=[finding_sentence(finding) for finding in result.findings],
        advice=ADVICE[result.advice],
    )


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
    """Registry spellings are terse ("VOLKS" for Volkswagen): one contains the other, ignoring case and punctuation."""
    a, b = ("".join(ch for ch in text.lower() if ch.isalnum()) for text in (left, right))
    return bool(a and b) and (a in b or b in a)


def build_facts(response: BuildDataResponse) -> BuildFacts:
    """The build data worth keeping: codes as "code: description" lines, cleaned once at parse."""
    vehicle = response.vehicle
    if vehicle is None:
        return BuildFacts(found=False)
    return BuildFacts(
        found=True,
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
            note=NO_BUILD_DATA_NOTE,
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
        offset=offset,
        codes=page,
        next_offset=next_offset,
        note=note,
    )
