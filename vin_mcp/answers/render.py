"""Short text renderings of the answers: what the assistant reads. No I/O.

Every string that came from the API is shown as a JSON string after a label of ours, never spliced
into one of our sentences: it reads as data, cannot end its quotation early, and (cleaned of line
breaks where it entered) cannot start a line that looks like ours.
"""

from __future__ import annotations

from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer, Vehicle, VinFacts, WriteOff
from vin_mcp.answers.wording import USER_REJECTED, quote

_STATUS_LINES = {
    "matched": "matched",
    "unconfirmed": "UNCONFIRMED match",
    "candidates": "several possible vehicles",
    "no_match": "NO MATCH",
    "vin_decode_only": "offline VIN decode only",
    "user_confirmed": "confirmed by the user",
}


UNCONFIRMED_LABEL = "Unconfirmed match (not the vehicle unless the user confirms)"


def render_lookup(answer: LookupAnswer) -> str:
    confidence = answer.confidence
    rating = quote(confidence.autograb) if confidence.autograb else None
    # A reason that already quotes AutoGrab's rating says it better than the heading would.
    said = rating is None or any(rating in reason for reason in confidence.reasons)
    autograb = "" if said else f" (AutoGrab: {rating})"
    region = f"({answer.region.upper()})"
    searched = f"VIN {answer.vin} {region}"
    if answer.plate is not None:  # a plate's answer also names the VIN AutoGrab gave for it
        searched = " ".join(p for p in ("Plate", answer.plate, answer.state, region) if p)
        searched += f", VIN {answer.vin}" if answer.vin else ""
    # A miss has no confidence to state: "NO MATCH" says it.
    level = "" if answer.status == "no_match" else f", confidence {confidence.level}"
    head = f"{searched}: {_STATUS_LINES[answer.status]}{_cached(answer.cached_minutes_ago)}{level}"
    lines = [f"{head}{autograb}. {' '.join(confidence.reasons)}".rstrip()]
    lines.append(f"Advice: {confidence.advice}")
    if answer.vehicle:
        lines.extend(_vehicle_lines("Vehicle", answer.vehicle))
    if answer.unconfirmed_vehicle:
        # After the person said no, "unless the user confirms" would invite asking them again.
        rejected = answer.confidence.reasons[:1] == [USER_REJECTED]
        label = "AutoGrab's match, which the user rejected" if rejected else UNCONFIRMED_LABEL
        lines.extend(_vehicle_lines(label, answer.unconfirmed_vehicle))
    if answer.candidates:
        lines.append("Candidates (best first):")
        lines.extend(f"{i}. {quote(line)}" for i, line in enumerate(answer.candidates, start=1))
    facts = []
    if answer.colour:
        facts.append(f"Colour {quote(answer.colour)}.")
    if answer.registry_description_unverified:
        facts.append(f"Registry text (unverified): {quote(answer.registry_description_unverified)}.")
    if answer.write_off:
        facts.append(_write_off_line(answer.write_off))
    if facts:
        lines.append(" ".join(facts))
    if answer.registration_record:
        # The field names are the authority's text too: quoted like its values, so neither can pass for our words.
        fields = "; ".join(
            f"{quote(_words(key))} is {quote(value)}" for key, value in answer.registration_record.items()
        )
        lines.append(f"Registration record (the authority's own, unverified): {fields}.")
        if answer.registration_record_disagrees:
            lines.append(f"Registration record disagrees: {' '.join(answer.registration_record_disagrees)}")
    if answer.vin_decode:
        lines.append(f"VIN decode: {render_decode(answer.vin_decode, brief=answer.status == 'no_match')}")
    if answer.note:
        lines.append(f"Note: {answer.note}")
    return "\n".join(lines)


def _cached(minutes: int | None) -> str:
    """An answer from the cache was not billed again: "free"."""
    return "" if minutes is None else f" (cached {minutes} min ago; free)"


def render_decode(facts: VinFacts, *, brief: bool = False) -> str:
    """What the VIN itself says. ``brief`` (behind a miss, ``VinFacts.brief``): only what it holds, since what it
    leaves out (the country, a check digit that is not wrong, years no standard fixes) is not unknown."""
    parts = [
        f"{facts.manufacturer}" if brief else f"{facts.manufacturer}, built in {facts.country or 'an unknown country'}"
    ]
    if facts.check_digit:
        expected = f" (expected {facts.expected_check_digit})" if facts.expected_check_digit else ""
        parts.append(f"check digit {facts.check_digit}{expected}")
    if facts.model_years:
        year = f"model year {' or '.join(str(y) for y in facts.model_years)}"
        parts.append(f"{year} ({facts.model_years_basis})" if facts.model_years_basis else year)
    elif not brief:
        parts.append("no model year encoded")
    return "; ".join(parts) + "."


def render_build_data(answer: BuildDataAnswer) -> str:
    if answer.status != "found":
        head = f"VIN {answer.vin} ({answer.region.upper()}): no factory build data{_cached(answer.cached_minutes_ago)}."
        return f"{head} {answer.note or ''}".rstrip()
    vehicle = quote(" ".join(p for p in (answer.make, answer.model) if p)) if answer.make or answer.model else "vehicle"
    built = f", built {quote(answer.build_date)}" if answer.build_date else ""
    lines = [
        f"VIN {answer.vin} ({answer.region.upper()}){_cached(answer.cached_minutes_ago)}: {vehicle}{built}; "
        f"{answer.total_codes} factory option codes" + (", AutoGrab's text, one per line:" if answer.codes else ".")
    ]
    # Unquoted: each code was cleaned to one line of printable text where it entered, so no line can pass for
    # another (quoting each added two tokens a code).
    lines.extend(answer.codes)
    if answer.note:
        lines.append(answer.note)
    return "\n".join(lines)


def _vehicle_lines(label: str, vehicle: Vehicle) -> list[str]:
    name = vehicle.name()
    series = vehicle.series and vehicle.series not in name.split() and f"series {vehicle.series}"
    body = vehicle.body and ", ".join(
        p
        for p in (vehicle.body, vehicle.doors and f"{vehicle.doors} doors", vehicle.seats and f"{vehicle.seats} seats")
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
    parts = (", ".join(p for p in (name, series) if p), body, ", ".join(p for p in (engine, output) if p), drivetrain)
    # One quotation for the vehicle: its words are API text (our unit words inside it are harmless).
    lines = [f"{label}: {quote('; '.join(p for p in parts if p))}"]
    options = vehicle.available_options
    if options:
        packs = "; ".join(
            f"{name} {price}" if price is not None else name for name, price in options.list_prices.items()
        )
        lines.append(
            f"Option packs available for this variant (fitted: {options.fitted}), {options.currency} list prices: "
            f"{quote(packs)}"
        )
    return lines


def _write_off_line(write_off: WriteOff) -> str:
    """The summary, then each incident as a sentence; every value from the API quoted."""
    sentences = [f"Write-off: {write_off.summary}"]
    for incident in write_off.incidents:
        what = quote(incident.category) if incident.category else "An incident"
        detail = "; ".join(
            part
            for part in (
                incident.type and f"type {quote(incident.type)}",
                incident.damage and f"damage {quote(incident.damage)}",
                incident.odometer_km is not None and f"odometer {incident.odometer_km} km",
            )
            if part
        )
        where = f" in {quote(incident.jurisdiction)}" if incident.jurisdiction else ""
        when = f" on {quote(incident.date)}" if incident.date else ""
        sentences.append(f"{what}{f' ({detail})' if detail else ''} recorded{where}{when}.")
    return " ".join(sentences)


def _words(key: str) -> str:
    """A record's field name read as words: "body_type_description" as "body type description"."""
    return key.replace("_", " ").replace(".", " ")


def candidate_line(vehicle: Vehicle) -> str:
    """One line that tells candidates apart: title, series, body, engine, transmission."""
    name = vehicle.name()
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
