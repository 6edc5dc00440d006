"""The confidence rules: pure functions over plain values. No I/O and no prose: ``render`` words them.

The vendor's own verdict comes first; then the match is cross-checked against what the VIN itself
encodes (check digit, manufacturer, model year). Any conflict makes the level "low"; a match with no
conflict is "high" only when AutoGrab called it "standard".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vin_mcp.vin.makes import same_maker

# The year AutoGrab reports is often the release or build year, one off the model year.
YEAR_TOLERANCE = 1

Level = Literal["high", "medium", "low", "none"]
Advice = Literal["state", "confirm", "choose", "no_match", "offline"]
FindingCode = Literal[
    "no_match",  # AutoGrab found no vehicle
    "candidates_only",  # no single match, only candidates (count)
    "offline",  # no API key: AutoGrab was not asked
    "vendor_reduced",  # AutoGrab's own confidence is "reduced"
    "check_digit",  # a North American check digit that does not compute (expected digit)
    "maker",  # the VIN's manufacturer is another brand family (wmi, VIN maker, matched make)
    "model_year",  # the VIN's model year is far from the match's (VIN year, matched year)
    "other_candidates",  # a match, and other candidates besides (count)
    "vendor_silent",  # AutoGrab stated no confidence
    "vendor_unknown",  # AutoGrab stated a confidence vin-mcp does not know (the value)
]


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
) -> Assessment:
    """How sure vin-mcp is of a lookup, and why: every input is a plain value from the VIN or the answer."""
    vendor = vendor_confidence.lower() if vendor_confidence else None
    if not matched:
        if candidates:
            return Assessment("low", (Finding("candidates_only", (candidates,)),), "choose")
        return Assessment("none", (Finding("no_match"),), "no_match")

    conflicts: list[Finding] = []
    if vendor == "reduced":
        conflicts.append(Finding("vendor_reduced"))
    if check_digit == "invalid":
        conflicts.append(Finding("check_digit", (expected_check_digit or "?",)))
    if same_maker(vin_maker, matched_make) is False:
        conflicts.append(Finding("maker", (wmi, vin_maker or "", matched_make or "")))
    if vin_years and matched_year and all(abs(matched_year - year) > YEAR_TOLERANCE for year in vin_years):
        conflicts.append(Finding("model_year", (vin_years[0], matched_year)))
    if candidates:
        conflicts.append(Finding("other_candidates", (candidates,)))
    if conflicts:
        return Assessment("low", tuple(conflicts), "choose" if candidates else "confirm")
    if vendor == "standard":
        return Assessment("high", (), "state")
    if vendor_confidence is None:
        return Assessment("medium", (Finding("vendor_silent"),), "confirm")
    return Assessment("medium", (Finding("vendor_unknown", (vendor_confidence,)),), "confirm")
