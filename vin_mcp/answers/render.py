"""Short text renderings of the answers: what the assistant reads. No I/O.

Every string that came from the API is shown as a JSON string after a label of ours, never spliced
into one of our sentences: it reads as data, cannot end its quotation early, and (cleaned of line
breaks where it entered) cannot start a line that looks like ours.
"""

from __future__ import annotations

import json

from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer, Vehicle, WriteOff
from vin_mcp.answers.wording import quote
from vin_mcp.vin.rules import VinDecode

_STATUS_LINES = {
    "matched": "matched",
    "candidates": "several possible vehicles",
    "no_match": "NO MATCH",
    "offline": "offline decode only",
}


def render_lookup(answer: LookupAnswer) -> str:
    confidence = answer.confidence
    sure = answer.status == "matched" and confidence.level == "high"
    head = f"VIN {answer.vin} ({answer.region.upper()}): {_STATUS_LINES[answer.status]}, confidence {confidence.level}"
    lines = [f"{head}."]
    if not sure:
        # Below "high" the assistant needs the why and the what-to-do; at "high" the tool description says it.
        vendor = f" AutoGrab's own confidence: {quote(confidence.vendor)}." if confidence.vendor else ""
        lines[0] = f"{head}.{vendor} {' '.join(confidence.reasons)}".rstrip()
        lines.append(f"Advice: {confidence.advice}")
    elif answer.write_off and answer.write_off.incidents:  # sure of the vehicle, but there is news to tell
        lines.append(f"Advice: {confidence.advice}")
    if answer.vehicle:
        lines.extend(_vehicle_lines(answer.vehicle))
    if answer.candidates:
        lines.append("Candidates (best first):")
        lines.extend(f"{i}. {quote(line)}" for i, line in enumerate(answer.candidates, start=1))
    facts = []
    if answer.colour:
        facts.append(f"Colour: {quote(answer.colour)}.")
    if answer.registration_description:
        facts.append(f"Registry text (unverified): {quote(answer.registration_description)}")
    if facts:
        lines.append(" ".join(facts))
    if answer.write_off:
        lines.append(_write_off_line(answer.write_off))
    if answer.registration_record:
        data = json.dumps(answer.registration_record, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"Registration record (the authority's own, unverified): {data}")
        if answer.record_disagrees:
            lines.append(f"Registration record disagrees: {' '.join(answer.record_disagrees)}")
    if not sure:  # a sure match already agrees with everything the VIN encodes
        lines.append(f"VIN decode: {render_decode(answer.decode)}")
    if answer.note:
        lines.append(f"Note: {answer.note}")
    if answer.provenance and answer.provenance.cached:
        lines.append(f"(From cache, fetched {answer.provenance.fetched_at}; not billed again.)")
    return "\n".join(lines)


def render_decode(decode: VinDecode) -> str:
    """What the VIN itself says."""
    maker = decode.manufacturer or f"unknown manufacturer (WMI {decode.wmi})"
    where = decode.country or decode.continent or "unknown country"
    check = {
        "valid": "check digit valid",
        "invalid": f"check digit WRONG (expected {decode.expected_check_digit}): VIN probably mistyped",
        "not_verifiable": "check digit not verifiable (not used outside North America)",
    }[decode.check_digit]
    if decode.model_years:
        year = f"model year {' or '.join(str(y) for y in decode.model_years)}"
    else:
        year = "model year not encoded"
    return f"{maker}, built in {where}; {check}; {year}."


def render_build_data(answer: BuildDataAnswer) -> str:
    if answer.status != "found":
        return f"VIN {answer.vin} ({answer.region.upper()}): no factory build data. {answer.note or ''}".rstrip()
    vehicle = quote(" ".join(p for p in (answer.make, answer.model) if p)) if answer.make or answer.model else "vehicle"
    built = f", built {quote(answer.build_date)}" if answer.build_date else ""
    lines = [f"VIN {answer.vin}: {vehicle}{built}; {answer.total_codes} factory option codes."]
    lines.extend(quote(code) for code in answer.codes)
    if answer.note:
        lines.append(answer.note)
    if answer.provenance and answer.provenance.cached:
        lines.append(f"(From cache, fetched {answer.provenance.fetched_at}; not billed again.)")
    return "\n".join(lines)


def _vehicle_lines(vehicle: Vehicle) -> list[str]:
    name = vehicle.title or " ".join(str(p) for p in (vehicle.year, vehicle.make, vehicle.model, vehicle.badge) if p)
    line = f"Vehicle: {quote(name)}"
    if vehicle.series and vehicle.series not in name.split():
        line += f", series {quote(vehicle.series)}"
    body = ", ".join(
        p
        for p in (
            vehicle.body,
            vehicle.doors and f"{vehicle.doors} doors",
            vehicle.seats and f"{vehicle.seats} seats",
        )
        if p
    )
    engine = " ".join(
        p
        for p in (
            vehicle.engine_cc and f"{vehicle.engine_cc} cc",
            vehicle.cylinders and f"{vehicle.cylinders}-cyl",
            vehicle.fuel,
        )
        if p
    )
    output = ", ".join(
        p
        for p in (vehicle.power_kw and f"{vehicle.power_kw:g} kW", vehicle.torque_nm and f"{vehicle.torque_nm:g} Nm")
        if p
    )
    drivetrain = ", ".join(p for p in (vehicle.transmission, vehicle.drive) if p)
    specs = "; ".join(p for p in (body, ", ".join(p for p in (engine, output) if p), drivetrain) if p)
    lines = [line + (f"; specs: {quote(specs)}" if specs else "")]
    if vehicle.options:
        # One quotation for the whole list: the names are API text, the prices are in the structured answer.
        lines.append(f"Options: {quote('; '.join(option.name for option in vehicle.options))}")
    return lines


def _write_off_line(write_off: WriteOff) -> str:
    incidents = "; ".join(
        quote(
            ", ".join(
                str(p)
                for p in (i.code, i.type, i.damage, i.jurisdiction, i.date, i.odometer and f"{i.odometer} km")
                if p
            )
        )
        for i in write_off.incidents
    )
    return f"Write-off: {write_off.summary}" + (f" {incidents}." if incidents else "")


def candidate_line(vehicle: Vehicle) -> str:
    """One line that tells candidates apart: title, series, body, engine, transmission."""
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
