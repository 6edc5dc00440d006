"""The confidence rules as tables over plain values: every finding and every level, no HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from vin_mcp.answers.confidence import OFFLINE, Assessment, Finding, assess
from vin_mcp.answers.wording import ADVICE, finding_sentence

# A sure match: a Volkswagen VIN (no check digit in use, no model year) matched as a Volkswagen, "standard".
SURE: dict[str, Any] = {
    "vendor_confidence": "standard",
    "matched": True,
    "candidates": 0,
    "check_digit": "not_verifiable",
    "expected_check_digit": "9",
    "wmi": "WVW",
    "vin_maker": "Volkswagen",
    "matched_make": "Volkswagen",
    "vin_years": [],
    "matched_year": 2015,
}
HONDA = {"check_digit": "valid", "wmi": "1HG", "vin_maker": "Honda", "matched_make": "Honda", "vin_years": [2003]}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Assessment("high", (), "state")),
        ({"vendor_confidence": "STANDARD"}, Assessment("high", (), "state")),
        ({**HONDA, "matched_year": 2004}, Assessment("high", (), "state")),  # one year off: release year
        ({"vendor_confidence": None}, Assessment("medium", (Finding("vendor_silent"),), "confirm")),
        ({"vendor_confidence": "great"}, Assessment("medium", (Finding("vendor_unknown", ("great",)),), "confirm")),
        ({"vendor_confidence": "reduced"}, Assessment("low", (Finding("vendor_reduced"),), "confirm")),
        (
            {**HONDA, "check_digit": "invalid", "expected_check_digit": "3", "matched_year": 2003},
            Assessment("low", (Finding("check_digit", ("3",)),), "confirm"),
        ),
        (
            {"wmi": "JTD", "vin_maker": "Toyota"},
            Assessment("low", (Finding("maker", ("JTD", "Toyota", "Volkswagen")),), "confirm"),
        ),
        ({"wmi": "KMH", "vin_maker": "Genesis", "matched_make": "Hyundai"}, Assessment("high", (), "state")),
        (
            {**HONDA, "vin_years": [2005, 2035], "matched_year": 2012},
            Assessment("low", (Finding("model_year", (2005, 2012)),), "confirm"),
        ),
        ({"candidates": 2}, Assessment("low", (Finding("other_candidates", (2,)),), "choose")),
        (
            {"vendor_confidence": "reduced", "wmi": "JTD", "vin_maker": "Toyota", "candidates": 1},
            Assessment(
                "low",
                (
                    Finding("vendor_reduced"),
                    Finding("maker", ("JTD", "Toyota", "Volkswagen")),
                    Finding("other_candidates", (1,)),
                ),
                "choose",
            ),
        ),
        ({"matched": False}, Assessment("none", (Finding("no_match"),), "no_match")),
        ({"matched": False, "candidates": 3}, Assessment("low", (Finding("candidates_only", (3,)),), "choose")),
    ],
)
def test_rules(changes: dict[str, Any], expected: Assessment) -> None:
    assert assess(**{**SURE, **changes}) == expected


@pytest.mark.parametrize(
    ("finding", "sentence"),
    [
        (Finding("no_match"), "AutoGrab found no vehicle for this VIN."),
        (Finding("candidates_only", (3,)), "No single match: 3 candidate vehicles."),
        (OFFLINE.findings[0], "No API key: AutoGrab was not asked."),
        (Finding("vendor_reduced"), "AutoGrab says the match is not reliable."),
        (Finding("check_digit", ("3",)), "The check digit (position 9) should be '3' for this North American VIN"),
        (
            Finding("maker", ("JTD", "Toyota", 'Volks"wagen')),
            """The VIN's manufacturer code JTD belongs to Toyota, but the match is a "Volks\\"wagen".""",
        ),
        (Finding("model_year", (2005, 2012)), "The VIN encodes model year 2005, but the match is a 2012."),
        (Finding("other_candidates", (2,)), "AutoGrab also returned 2 other candidate vehicles."),
        (Finding("other_candidates", (1,)), "AutoGrab also returned 1 other candidate vehicle."),
        (Finding("candidates_only", (1,)), "No single match: 1 candidate vehicle."),
        (Finding("vendor_silent"), "AutoGrab did not state its confidence."),
        (Finding("vendor_unknown", ("great",)), 'Unknown AutoGrab confidence "great".'),
    ],
)
def test_every_finding_is_worded_with_vendor_values_quoted(finding: Finding, sentence: str) -> None:
    assert finding_sentence(finding).startswith(sentence)


def test_every_advice_is_worded() -> None:
    assert set(ADVICE) == {"state", "confirm", "choose", "no_match", "offline"}
    assert all(text.endswith(".") for text in ADVICE.values())
