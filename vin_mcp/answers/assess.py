"""Turning AutoGrab payloads into condensed, confidence-annotated answers. No I/O.

The confidence rules live here: the vendor's own level, then the server's cross-checks of the
match against what the VIN itself encodes (check digit, manufacturer, model year).
"""

from __future__ import annotations

from vin_mcp.answers.models import (
    BuildDataAnswer,
    BuildFacts,
    Confidence,
    ConfidenceLevel,
    Incident,
    LookupAnswer,
    OptionPack,
    Vehicle,
    WriteOff,
)
from vin_mcp.answers.render import quote
from vin_mcp.autograb.payloads import BuildDataResponse, VendorVehicle, VendorWriteoff, VinSearchResponse
from vin_mcp.vin.makes import same_maker
from vin_mcp.vin.rules import VinDecode

# The year AutoGrab reports is often the release or build year, one off the model year.
YEAR_TOLERANCE = 1

ADVICE_HIGH = "Safe to tell the user this is the vehicle."
ADVICE_CONFIRM = "Show the user the registry text and ask them to confirm make, model and year before relying on this."
ADVICE_CANDIDATES = (
    "Several vehicles fit: show the candidates and ask the user which one matches "
    "(badge, engine or body) before answering."
)
ADVICE_NO_MATCH = (
    "Tell the user plainly that no vehicle was found and ask them to re-check the VIN "
    "(registration papers or windscreen plate); do not guess a vehicle."
)
ADVICE_OFFLINE = (
    "Only the VIN decode is available: say which facts come from the VIN itself and that the exact vehicle is unknown."
)
OFFLINE_NOTE = "Registration and vehicle data need AUTOGRAB_API_KEY; this answer is the offline VIN decode only."


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
        note = "Extended registration data was asked for but not returned (the AutoGrab plan may not include it)."

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
        confidence=Confidence(level="none", reasons=["No API key: AutoGrab was not asked."], advice=ADVICE_OFFLINE),
        decode=decode,
        note=OFFLINE_NOTE,
    )


def assess_confidence(
    decode: VinDecode,
    response: VinSearchResponse,
    vehicle: Vehicle | None,
    candidate_count: int,
) -> Confidence:
    vendor = response.confidence
    vendor_level = vendor.lower() if vendor else None
    if vehicle is None:
        if candidate_count:
            return Confidence(
                level="low",
                vendor=vendor,
                reasons=[f"No single match: {candidate_count} candidate vehicles."],
                advice=ADVICE_CANDIDATES,
            )
        return Confidence(
            level="none", vendor=vendor, reasons=["AutoGrab found no vehicle for this VIN."], advice=ADVICE_NO_MATCH
        )

    conflicts: list[str] = []
    if vendor_level == "reduced":
        conflicts.append("AutoGrab says the match is not reliable (confidence 'reduced').")
    if decode.check_digit == "invalid":
        conflicts.append(
            f"The check digit (position 9) should be '{decode.expected_check_digit}' for this North American VIN: "
            "it was probably mistyped, so the match may be another vehicle."
        )
    if same_maker(decode.manufacturer, vehicle.make) is False:
        conflicts.append(
            f"The VIN's manufacturer code {decode.wmi} belongs to {decode.manufacturer}, "
            f"but the match is a {quote(vehicle.make or '')}."
        )
    if (
        decode.model_years
        and vehicle.year
        and all(abs(vehicle.year - year) > YEAR_TOLERANCE for year in decode.model_years)
    ):
        conflicts.append(f"The VIN encodes model year {decode.model_years[0]}, but the match is a {vehicle.year}.")
    if candidate_count:
        conflicts.append(f"AutoGrab also returned {candidate_count} other candidate vehicle(s).")

    level: ConfidenceLevel
    if conflicts:
        level = "low"
        advice = ADVICE_CANDIDATES if candidate_count else ADVICE_CONFIRM
    elif vendor_level == "standard":
        level, advice = "high", ADVICE_HIGH
    else:
        level, advice = "medium", ADVICE_CONFIRM
        conflicts.append(
            "AutoGrab did not state its confidence."
            if vendor is None
            else f"Unknown AutoGrab confidence {quote(vendor)}."
        )
    return Confidence(level=level, vendor=vendor, reasons=conflicts, advice=advice)


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
