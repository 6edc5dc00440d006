"""A lookup's answer, shaped in one place. No I/O.

``lookup_facts`` condenses what AutoGrab said (once, when it is paid for; that is what the cache keeps).
``lookup_answer`` shapes every answer from those facts: the first one, one served from the cache, one without
the registration record (a plain lookup answered from an extended one), and the one the person's reply makes
(``Reply``). Status, confidence, every advice sentence and every note are derived here and nowhere else, the
same for every kind of search (VIN or plate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vin_mcp.answers import confidence, registry
from vin_mcp.answers.models import (
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
    BUILD_DATA_TAKES,
    CURRENCIES,
    EXTENDED_MISSING_NOTE,
    NOTED_ADVICE,
    OPTIONS_FITTED,
    OPTIONS_FITTED_BUILD_DATA,
    TEST_DATA_NOTE,
    WRITE_OFF_ADVICE,
    advice,
    finding_sentence,
    no_vin_given,
    record_disagreement,
)
from vin_mcp.errors import InvalidVinError
from vin_mcp.vin.identifiers import Search
from vin_mcp.vin.makes import BUILD_DATA_FIRST_YEAR, build_data_covers
from vin_mcp.vin.rules import VinDecode, decode_vin, validate_vin

if TYPE_CHECKING:  # the vendor's models are loaded by the first paid call, not at start
    from vin_mcp.autograb.payloads import SearchResponse, VendorVehicle

# Not said behind a miss: "no_match" is the status itself, and the registry text and the VIN's maker are both in
# the answer, side by side.
_NOT_SAID_IN_A_MISS = frozenset({"no_match", "registry_vs_vin", "registry_as_vin"})


@dataclass(frozen=True)
class Reply:
    """What the person answered the lookup's question (``choice``): a candidate's number, "none", "yes" or "no"."""

    kind: Literal["pick", "confirm"]
    value: str


def lookup_facts(search: Search, region: str, response: SearchResponse, *, extended: bool) -> LookupFacts:
    """What AutoGrab said, condensed and cleaned: kept in the cache and shaped into every answer."""
    vin = search.searched_vin or _given_vin(response)
    decode = decode_vin(vin) if vin else None

    def condensed(raw: VendorVehicle) -> Vehicle:
        return Vehicle.from_vendor(raw, currency=CURRENCIES[region], fitted=options_fitted(decode, raw))

    # Every part is already a validated model or a cleaned value: built without validating it all again (the
    # cache validates what it reads back).
    return LookupFacts.model_construct(
        search=search,
        region=region,
        vin=vin,
        match=condensed(response.vehicle) if response.vehicle else None,
        others=[condensed(raw) for raw in response.additional_vehicles],
        autograb=response.confidence,
        registry_text=response.upstream_vehicle,
        colour=response.colour,
        write_off=WriteOff.from_vendor(response.writeoff_info) if response.vehicle or response.writeoff_info else None,
        record=response.registration_data if extended else None,
        extended=extended,
        test_data=response.test_data,
        offline=False,
        cached_minutes_ago=None,
    )


def lookup_answer(facts: LookupFacts, reply: Reply | None = None) -> LookupAnswer:
    """The answer these facts make, after the person's ``reply`` if there was one."""
    decode = decode_vin(facts.vin) if facts.vin else None
    if facts.offline and decode is not None:
        return offline_answer(decode, facts.region)
    match = facts.match
    listed = [(line, vehicle) for vehicle in facts.others if (line := candidate_line(vehicle))]
    in_play = ([match] if match else []) + [vehicle for _, vehicle in listed]
    candidates = ([candidate_line(match)] if match else []) + [line for line, _ in listed] if listed else []
    assessment = _assess(decode, facts, match, len(listed))
    autograb = facts.autograb
    status: LookupStatus
    if listed:
        # Every vehicle in play is numbered, best first: AutoGrab's own match leads the list, and no single
        # vehicle is shown apart from it as if it were the answer.
        status, shown = "candidates", None
    else:
        status = "no_match" if match is None else "unconfirmed" if assessment.advice == "unconfirmed" else "matched"
        shown = match
    reasons_before: list[confidence.Finding] = []
    if reply is not None:
        if reply.value in ("none", "no") or (reply.kind == "confirm" and match is None):
            reasons_before = list(assessment.findings) if reply.value == "no" else []
            assessment = confidence.none_fit(len(candidates)) if reply.value == "none" else confidence.REJECTED
            status = "no_match" if reply.value == "none" else "unconfirmed"
            if reply.value == "none":
                autograb = None  # its rating was of a vehicle the person turned down
        else:
            picked = in_play[int(reply.value) - 1] if reply.kind == "pick" else match
            assert picked is not None
            assessment = _user_checked(decode, picked, picked_from=len(candidates) if reply.kind == "pick" else None)
            status, shown = "user_confirmed", picked
            if reply.kind == "pick":
                autograb = None  # AutoGrab's rating was of its own match, not of the vehicle the person picked
        candidates = []
    vehicle = shown if status in ("matched", "user_confirmed") else None
    unconfirmed = shown if status == "unconfirmed" else None
    compared = None if status == "no_match" else vehicle or match
    disagrees = _record_disagreements(facts.record, compared, facts.colour)
    sure = status in ("matched", "user_confirmed") and assessment.level == "high"
    return LookupAnswer(
        status=status,
        vin=facts.vin,
        **facts.search.answer_fields(),
        region=facts.region,
        vehicle=vehicle,
        unconfirmed_vehicle=unconfirmed,
        candidates=candidates,
        confidence=Confidence(
            level=None if status == "no_match" else assessment.level,
            autograb=autograb,
            reasons=[
                finding_sentence(finding, facts.search.noun())
                for finding in (*assessment.findings, *reasons_before)
                if status != "no_match" or finding.code not in _NOT_SAID_IN_A_MISS
            ],
            advice=_advice(assessment, facts, noted=bool(disagrees)),
        ),
        # Behind a sure match the registry text only repeats the vehicle (its maker and year were checked).
        registry_description_unverified=None
        if sure and not assessment.findings and reply is None
        else facts.registry_text,
        colour=facts.colour,
        write_off=facts.write_off,
        registration_record=facts.record,
        registration_record_disagrees=disagrees,
        vin_decode=None
        if sure or decode is None
        else VinFacts.brief(decode)
        if status == "no_match"
        else VinFacts.from_decode(decode),
        note=_note(facts),
        cached_minutes_ago=facts.cached_minutes_ago,
    )


def offline_answer(decode: VinDecode, region: str, *, asked: bool = False) -> LookupAnswer:
    """What the VIN alone says: without a key, or because only the decode was ``asked`` for (never billed)."""
    assessment = confidence.DECODE_ONLY if asked else confidence.OFFLINE
    return LookupAnswer(
        status="vin_decode_only",
        vin=decode.vin,
        region=region,
        confidence=Confidence(
            level=assessment.level,
            reasons=[finding_sentence(finding, "VIN") for finding in assessment.findings],
            advice=advice(assessment),
        ),
        vin_decode=VinFacts.from_decode(decode),
    )


def without_record(facts: LookupFacts) -> LookupFacts:
    """The facts a plain lookup gets from an extended one: the same, without the registration record."""
    return facts.model_copy(update={"record": None, "extended": False})


def _advice(assessment: confidence.Assessment, facts: LookupFacts, *, noted: bool) -> str:
    """Every advice sentence, each said once: the rule's, a difference noted, a write-off, the VIN."""
    sentences = [advice(assessment, facts.search.noun())]
    differences = noted or any(f.code == "registry_colour" for f in assessment.findings)
    if differences and assessment.advice in ("state", "user_confirmed", "user_confirmed_vin"):
        sentences.append(NOTED_ADVICE)
    if facts.write_off is not None and facts.write_off.incidents:
        sentences.append(WRITE_OFF_ADVICE)
    if facts.search.searched_vin is None:  # the VIN is AutoGrab's to give: say it, or that it gave none
        sentences.append(BUILD_DATA_TAKES if facts.vin else no_vin_given(facts.search.noun()))
    return " ".join(sentences)


def _note(facts: LookupFacts) -> str | None:
    notes = [TEST_DATA_NOTE] if facts.test_data else []
    if facts.extended and not facts.record:
        notes.append(EXTENDED_MISSING_NOTE)
    return " ".join(notes) or None


def _given_vin(response: SearchResponse) -> str | None:
    """The VIN a plate answer carries (top level, the vehicle, or the registration record), if it is a VIN."""
    record = response.registration_data or {}
    for given in (
        response.vin,
        response.vehicle.vin if response.vehicle else None,
        *(value for key, value in record.items() if key.endswith("vehicle_identification_number")),
    ):
        if given:
            try:
                return validate_vin(given)
            except InvalidVinError:
                continue
    return None


def _assess(
    decode: VinDecode | None, facts: LookupFacts, match: Vehicle | None, candidates: int
) -> confidence.Assessment:
    """The rules (``confidence``) applied to these facts; without a VIN, nothing is checked against one."""
    return confidence.assess(
        vendor_confidence=facts.autograb,
        matched=match is not None,
        candidates=candidates,
        check_digit=decode.check_digit if decode else "not_verifiable",
        expected_check_digit=decode.expected_check_digit if decode else None,
        wmi=decode.wmi if decode else "",
        vin_maker=decode.manufacturer if decode else None,
        matched_make=match.make if match else None,
        vin_years=_checked_years(decode),
        matched_year=match.year if match else None,
        registry_text=facts.registry_text,
        colour=facts.colour,
    )


def _checked_years(decode: VinDecode | None) -> list[int]:
    """The model years a match is checked against: North American ones only, where the standard fixes what position
    10 means; elsewhere the decode names a maker's practice, good to show but not to contradict a match with."""
    return decode.model_years if decode is not None and decode.north_american else []


def _user_checked(decode: VinDecode | None, vehicle: Vehicle, *, picked_from: int | None) -> confidence.Assessment:
    return confidence.user_checked(
        picked_from=picked_from,
        check_digit=decode.check_digit if decode else "not_verifiable",
        expected_check_digit=decode.expected_check_digit if decode else None,
        wmi=decode.wmi if decode else "",
        vin_maker=decode.manufacturer if decode else None,
        make=vehicle.make,
        vin_years=_checked_years(decode),
        year=vehicle.year,
    )


def options_fitted(decode: VinDecode | None, raw: VendorVehicle) -> str:
    """What the option list means, and whether factory build data can say which packs were fitted."""
    year = year_of(raw.year) or (decode.model_years[0] if decode and decode.model_years else None)
    covered = build_data_covers(raw.make) or (decode is not None and build_data_covers(decode.manufacturer))
    if covered and (year is None or year >= BUILD_DATA_FIRST_YEAR):
        return OPTIONS_FITTED_BUILD_DATA
    return OPTIONS_FITTED


def _record_disagreements(record: dict[str, str] | None, vehicle: Vehicle | None, colour: str | None) -> list[str]:
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
