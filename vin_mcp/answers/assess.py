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
    Incident,
    LookupAnswer,
    OptionPack,
    Vehicle,
    WriteOff,
)
from vin_mcp.answers.render import ADVICE, EXTENDED_MISSING_NOTE, OFFLINE_NOTE, finding_sentence
from vin_mcp.autograb.payloads import BuildDataResponse, VendorVehicle, VendorWriteoff, VinSearchResponse
from vin_mcp.vin.rules import VinDecode


def lookup_answer(
    decode: VinDecode,
    region: str,
    response: VinSearchResponse,
    *,
    extended_requested: bool = False,
) -> LookupAnswer:
    vehicle = condense_vehicle(response.vehicle) if response.vehicle else None
    candidates = [candidate_line(v) for v in response.additional_vehicles]
    candidates = [line for line in candidates if line]
    status = "candidates" if candidates else "matched" if vehicle else "no_match"

    note = None
    extended = response.registration_data if extended_requested else None
    if extended_requested and not extended:
        note = EXTENDED_MISSING_NOTE

    return LookupAnswer(
        status=status,
        vin=decode.vin,
        region=region,
        vehicle=vehicle,
        confidence=assess_confidence(decode, response, vehicle, len(candidates)),
        registration_description=response.upstream_vehicle,
        colour=response.colour,
        write_off=condense_writeoff(response.writeoff_info) if vehicle or response.writeoff_info else None,
        extended_data=extended,
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


def condense_vehicle(raw: VendorVehicle) -> Vehicle:
    body = " ".join(part for part in (raw.body_type, raw.body_config) if part) or None
    return Vehicle(
        title=raw.title,
        year=_year(raw.year),
        make=raw.make,
        model=raw.model,
        badge=raw.badge,
        series=raw.series,
        body=body,
        doors=raw.num_doors,
        seats=raw.num_seats,
        transmission=raw.transmission or raw.transmission_type,
        fuel=raw.fuel_type or raw.fuel,
        drive=raw.drive_type or raw.drive,
        engine_cc=raw.capacity_cc,
        cylinders=raw.num_cylinders,
        power_kw=_tidy(raw.power_kw),
        torque_nm=_tidy(raw.torque_nm),
        options=[
            OptionPack(name=option.detail, price=round(option.price) if option.price is not None else None)
            for option in raw.options
            if option.detail
        ],
    )


def candidate_line(raw: VendorVehicle) -> str:
    """One line that tells candidates apart: title, series, body, engine, transmission."""
    vehicle = condense_vehicle(raw)
    name = vehicle.title or " ".join(
        str(part) for part in (vehicle.year, vehicle.make, vehicle.model, vehicle.badge) if part
    )
    details = [
        vehicle.series and f"series {vehicle.series}",
        vehicle.body,
        vehicle.engine_cc and f"{vehicle.engine_cc} cc",
        vehicle.fuel,
        vehicle.transmission,
        vehicle.drive,
    ]
    shown = ", ".join(str(d) for d in details if d)
    return f"{name} ({shown})" if shown and name else name or shown


def condense_writeoff(info: VendorWriteoff | None) -> WriteOff:
    if info is None:
        return WriteOff(summary="Not reported by AutoGrab: write-off status unknown.")
    incidents = [
        Incident(
            code=i.code,
            type=i.type_code,
            damage=i.damage_codes,
            jurisdiction=i.jurisdiction,
            date=i.recorded_date,
            odometer=i.odometer,
        )
        for i in info.incident_list
    ]
    if not incidents:
        return WriteOff(summary="None recorded.")
    times = "once" if len(incidents) == 1 else f"{len(incidents)} times"
    return WriteOff(summary=f"Recorded as written off {times}:", incidents=incidents)


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
            note="AutoGrab has no factory build data for this VIN. Use lookup_vin for the registered vehicle.",
        )
    codes = facts.codes
    wanted = codes
    if search:
        needle = search.casefold()
        wanted = [line for line in codes if needle in line.casefold()]
    page = wanted[offset : offset + limit]
    next_offset = offset + limit if offset + limit < len(wanted) else None
    shown = len(wanted)
    if not page:
        note = (
            f"No codes match {search!r}."
            if search and not wanted
            else f"offset {offset} is past the last of {shown} codes."
        )
    else:
        note = f"Codes {offset + 1}-{offset + len(page)} of {shown}" + (f" matching {search!r}" if search else "")
        note += (
            f"; call again with offset={next_offset} for more, or narrow with search."
            if next_offset is not None
            else "; that is all."
        )
    if facts.codes_sent > len(codes):
        note += f" AutoGrab sent {facts.codes_sent} codes; only the first {len(codes)} are kept."
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


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    digits = raw.strip()[:4]
    return int(digits) if digits.isdigit() and 1900 < int(digits) < 2100 else None


def _tidy(value: float | None) -> float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 1)
