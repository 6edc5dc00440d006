"""The confidence rules: pure functions over plain values. No I/O and no prose: ``wording`` words them.

The vendor's own verdict comes first; then the match is cross-checked against what the VIN itself
encodes (check digit, manufacturer, model year) and what the registry text says (maker, year). Any
conflict makes the level "low" and the match unconfirmed; a match with no conflict is "high" only
when AutoGrab called it "standard". A different colour in the registry text is noted, not a conflict
(cars are resprayed; registries name paints loosely).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vin_mcp.answers import registry
from vin_mcp.vin.makes import families_of, same_maker

# The year AutoGrab reports is often the release or build year, one off the model year.
YEAR_TOLERANCE = 1

Level = Literal["high", "medium", "low", "none"]
Advice = Literal[
    "state",
    "confirm",
    "unconfirmed",
    "choose",
    "no_match",
    "no_match_registry",
    "offline",
    "user_confirmed",  # the person picked or confirmed the vehicle, and the VIN agrees
    "user_confirmed_vin",  # the person picked or confirmed it, but the VIN contradicts it
    "none_fit",  # the person said none of the candidates is theirs
    "user_rejected",  # the person said the single match is not theirs
]
FindingCode = Literal[
    "no_match",  # AutoGrab found no vehicle
    "candidates_only",  # no single match, only candidates (count)
    "offline",  # no API key: AutoGrab was not asked
    "decode_only",  # only the VIN decode was asked for: AutoGrab was not asked
    "vendor_reduced",  # AutoGrab's own confidence is "reduced"
    "check_digit",  # a North American check digit that does not compute (expected digit)
    "maker",  # the VIN's manufacturer is another brand family (wmi, VIN maker, matched make)
    "model_year",  # the VIN's model year is far from the match's (VIN year, matched year)
    "other_candidates",  # a match, and other candidates besides (count)
    "vendor_silent",  # AutoGrab stated no confidence
    "vendor_unknown",  # AutoGrab stated a confidence vin-mcp does not know (the value)
    "registry_maker",  # the registry text names another maker than the match (registry maker, matched make)
    "registry_year",  # the registry text's year is far from the match's (registry year, matched year)
    "registry_colour",  # a note: the registry text names another colour (registry word, AutoGrab colour)
    "registry_vs_vin",  # no match; the registry text names another maker than the VIN (registry maker, VIN maker)
    "registry_as_vin",  # no match; the registry text names the VIN's maker (VIN maker)
    "user_picked",  # the person picked this vehicle from the candidates (count)
    "user_confirmed",  # the person confirmed the doubtful match
    "user_none",  # the person said none of the candidates is theirs (count)
    "user_rejected",  # the person said the doubtful match is not theirs
]
# Findings that contradict a match, by the source that disagrees (for the advice).
SOURCES: dict[FindingCode, str] = {
    "vendor_reduced": "autograb",
    "check_digit": "vin",
    "maker": "vin",
    "model_year": "vin",
    "registry_maker": "registry",
    "registry_year": "registry",
}


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    values: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class Assessment:
    level: Level
    findings: tuple[Finding, ...]
    advice: Advice


OFFLINE = Assessment("none", (Finding("offline"),), "offline")
DECODE_ONLY = Assessment("none", (Finding("decode_only"),), "offline")
REJECTED = Assessment("low", (Finding("user_rejected"),), "user_rejected")


def none_fit(candidates: int) -> Assessment:
    return Assessment("none", (Finding("user_none", (candidates,)),), "none_fit")


def user_checked(
    *,
    picked_from: int | None,
    check_digit: Literal["valid", "invalid", "not_verifiable"],
    expected_check_digit: str | None,
    wmi: str,
    vin_maker: str | None,
    make: str | None,
    vin_years: Sequence[int],
    year: int | None,
) -> Assessment:
    """A vehicle the person picked (from ``picked_from`` candidates) or confirmed. They saw it and the registry
    text, so AutoGrab's doubt and the registry's disagreement are settled; what the VIN encodes still stands."""
    person = Finding("user_picked", (picked_from,)) if picked_from else Finding("user_confirmed")
    conflicts = _vin_conflicts(check_digit, expected_check_digit, wmi, vin_maker, make, vin_years, year)
    if conflicts:
        return Assessment("medium", (person, *conflicts), "user_confirmed_vin")
    return Assessment("high", (person,), "user_confirmed")


def _vin_conflicts(
    check_digit: Literal["valid", "invalid", "not_verifiable"],
    expected_check_digit: str | None,
    wmi: str,
    vin_maker: str | None,
    make: str | None,
    vin_years: Sequence[int],
    year: int | None,
) -> list[Finding]:
    """Where the VIN itself disagrees with a vehicle: check digit, manufacturer, model year."""
    found: list[Finding] = []
    if check_digit == "invalid":
        found.append(Finding("check_digit", (expected_check_digit or "?",)))
    if same_maker(vin_maker, make) is False:
        found.append(Finding("maker", (wmi, vin_maker or "", make or "")))
    if vin_years and year and all(abs(year - vin_year) > YEAR_TOLERANCE for vin_year in vin_years):
        found.append(Finding("model_year", (vin_years[0], year)))
    return found


def assess(
    *,
    vendor_confidence: str | None,
    matched: bool,
    candidates: int,
    check_digit: Literal["valid", "invalid", "not_verifiable"],
    expected_check_digit: str | None,
    wmi: str,
    vin_maker: str | None,
    matched_make: str | None,
    vin_years: Sequence[int],
    matched_year: int | None,
    registry_text: str | None = None,
    colour: str | None = None,
) -> Assessment:
    """How sure vin-mcp is of a lookup, and why: every input is a plain value from the VIN or the answer."""
    vendor = vendor_confidence.lower() if vendor_confidence else None
    if not matched:
        if candidates:
            return Assessment("low", (Finding("candidates_only", (candidates,)),), "choose")
        if not registry_text:
            return Assessment("none", (Finding("no_match"),), "no_match")
        return Assessment(
            "none", (Finding("no_match"), *_registry_vs_vin(registry_text, vin_maker)), "no_match_registry"
        )

    conflicts: list[Finding] = [Finding("vendor_reduced")] if vendor == "reduced" else []
    conflicts += _vin_conflicts(
        check_digit, expected_check_digit, wmi, vin_maker, matched_make, vin_years, matched_year
    )
    named = registry.other_maker(registry_text, families_of(matched_make))
    if named:
        conflicts.append(Finding("registry_maker", (named, matched_make or "")))
    registry_year = registry.year(registry_text)
    if registry_year and matched_year and abs(registry_year - matched_year) > YEAR_TOLERANCE:
        conflicts.append(Finding("registry_year", (registry_year, matched_year)))
    notes: tuple[Finding, ...] = ()
    theirs, ours = registry.colours(registry_text), registry.colours(colour)
    if theirs and ours and not theirs & ours:
        notes = (Finding("registry_colour", (registry.colour_word(registry_text) or "", colour or "")),)
    if candidates:
        conflicts.append(Finding("other_candidates", (candidates,)))
    if conflicts:
        return Assessment("low", (*conflicts, *notes), "choose" if candidates else "unconfirmed")
    if vendor == "standard":
        return Assessment("high", notes, "state")
    if vendor_confidence is None:
        return Assessment("medium", (Finding("vendor_silent"), *notes), "confirm")
    return Assessment("medium", (Finding("vendor_unknown", (vendor_confidence,)), *notes), "confirm")


def _registry_vs_vin(registry_text: str, vin_maker: str | None) -> tuple[Finding, ...]:
    """No match: does the registry text name the VIN's maker, another one, or none vin-mcp can place?"""
    families = families_of(vin_maker)
    if not families or not registry.makers(registry_text):
        return ()
    named = registry.other_maker(registry_text, families)
    if named:
        return (Finding("registry_vs_vin", (named, vin_maker or "")),)
    return (Finding("registry_as_vin", (vin_maker or "",)),)
