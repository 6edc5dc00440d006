"""The confidence rules as tables over plain values: every finding and every level, no HTTP."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from tests import fake_autograb as fa
from vin_mcp.answers.confidence import OFFLINE, Advice, Assessment, Finding, assess
from vin_mcp.answers.lookup import lookup_answer, lookup_facts, options_fitted
from vin_mcp.answers.render import render_lookup
from vin_mcp.answers.wording import ADVICE, advice, finding_sentence
from vin_mcp.autograb.payloads import SearchResponse, VendorVehicle
from vin_mcp.vin.identifiers import VinSearch
from vin_mcp.vin.rules import decode_vin

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
        ({"vendor_confidence": "reduced"}, Assessment("low", (Finding("vendor_reduced"),), "unconfirmed")),
        (
            {**HONDA, "check_digit": "invalid", "expected_check_digit": "3", "matched_year": 2003},
            Assessment("low", (Finding("check_digit", ("3",)),), "unconfirmed"),
        ),
        (
            {"wmi": "JTD", "vin_maker": "Toyota"},
            Assessment("low", (Finding("maker", ("JTD", "Toyota", "Volkswagen")),), "unconfirmed"),
        ),
        ({"wmi": "KMH", "vin_maker": "Genesis", "matched_make": "Hyundai"}, Assessment("high", (), "state")),
        (
            {**HONDA, "vin_years": [2005, 2035], "matched_year": 2012},
            Assessment("low", (Finding("model_year", (2005, 2012)),), "unconfirmed"),
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
        # The registry text against the match: its maker or year contradicts it; its colour is only noted.
        (
            {"registry_text": "2007 TOYOTA YARIS HATCH"},
            Assessment(
                "low",
                (Finding("registry_maker", ("Toyota", "Volkswagen")), Finding("registry_year", (2007, 2015))),
                "unconfirmed",
            ),
        ),
        ({"registry_text": "2015 VW GOLF 110TSI HATCH"}, Assessment("high", (), "state")),
        ({"registry_text": "VOLKSWAGEN GOLF 2016"}, Assessment("high", (), "state")),  # a year off: release year
        ({"registry_text": "2015 VOLKS GOLF HATCH 5 SEAT"}, Assessment("high", (), "state")),  # "VOLKS", "SEAT"
        (
            {"registry_text": "2015 VOLKSWAGEN GOLF GREY", "colour": "Pure White"},
            Assessment("high", (Finding("registry_colour", ("GREY", "Pure White")),), "state"),
        ),
        ({"registry_text": "2015 VOLKSWAGEN GOLF SILVER", "colour": "Grey Metallic"}, Assessment("high", (), "state")),
        # No match: the registry text is compared with the VIN's maker instead.
        (
            {"matched": False, "registry_text": "1998 HOLDEN COMMODORE VT SEDAN"},
            Assessment(
                "none",
                (Finding("no_match"), Finding("registry_vs_vin", ("Holden", "Volkswagen"))),
                "no_match_registry",
            ),
        ),
        (
            {"matched": False, "registry_text": "2012 VOLKSWAGEN POLO"},
            Assessment("none", (Finding("no_match"), Finding("registry_as_vin", ("Volkswagen",))), "no_match_registry"),
        ),
        (
            {"matched": False, "registry_text": "WHITE SEDAN"},
            Assessment("none", (Finding("no_match"),), "no_match_registry"),
        ),
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
        (OFFLINE.findings[0], "AUTOGRAB_API_KEY is not set, so AutoGrab was not asked"),
        (Finding("vendor_reduced"), 'AutoGrab rates its own match "reduced": not reliable.'),
        (
            Finding("registry_maker", ("Toyota", "Holden")),
            'The registry text names "Toyota", but the match is a "Holden".',
        ),
        (Finding("registry_year", (2007, 2012)), "The registry text says 2007, but the match is a 2012."),
        (
            Finding("registry_colour", ("GREY", "Black")),
            'The registry text\'s colour is "GREY", AutoGrab\'s is "Black".',
        ),
        (
            Finding("registry_vs_vin", ("Holden", "Volkswagen")),
            'The registry text names "Holden", but the VIN\'s manufacturer is Volkswagen.',
        ),
        (Finding("registry_as_vin", ("Volkswagen",)), "The registry text names the VIN's manufacturer (Volkswagen)."),
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
    assert set(ADVICE) == set(get_args(Advice))
    assert all(text.endswith(".") for text in ADVICE.values())


@pytest.mark.parametrize(
    ("findings", "why"),
    [
        ((Finding("vendor_reduced"),), "AutoGrab doubts it"),
        (
            (Finding("maker", ("JTN", "Toyota", "Holden")), Finding("model_year", (2005, 2012))),
            "the VIN contradicts it",
        ),
        (
            (Finding("check_digit", ("3",)), Finding("registry_maker", ("Toyota", "Holden"))),
            "the VIN contradicts it; the registry text contradicts it",
        ),
    ],
)
def test_unconfirmed_advice_names_who_disagrees(findings: tuple[Finding, ...], why: str) -> None:
    assert advice(Assessment("low", findings, "unconfirmed")) == (
        f"Do not present this as the vehicle ({why}). Show the user the registry text and ask them to confirm "
        "make, model and year."
    )


def test_a_note_beside_a_sure_match_is_mentioned() -> None:
    plain = advice(Assessment("high", (), "state"))
    vin = "WVWZZZ1KZKU000001"
    body = fa.match_body(vin, fa.vehicle(year="2015"), colour="Black", upstream_vehicle="2015 VOLKSWAGEN POLO GREY")
    answer = lookup_answer(lookup_facts(VinSearch(vin=vin), "au", SearchResponse.model_validate(body), extended=False))
    assert plain == "Safe to tell the user this is the vehicle."
    assert answer.confidence.advice == f"{plain} Mention the difference this answer notes."


@pytest.mark.parametrize(
    ("vin", "make", "year", "fitted"),
    [
        ("WVWZZZ1KZKU000001", "Volkswagen", "2015", "not confirmed; get_factory_build_data can confirm"),
        ("WVWZZZ1KZKU000001", "Volkswagen", "1996", "not confirmed"),  # build data starts with 1999
        ("JTNZZZ1KZKU000015", "Toyota", "2015", "not confirmed"),  # no build data for Toyota at all
        ("KMHZZZ1KZKU000001", "Hyundai", None, "not confirmed; get_factory_build_data can confirm"),
    ],
)
def test_options_say_whether_build_data_can_confirm_them(vin: str, make: str, year: str | None, fitted: str) -> None:
    assert options_fitted(decode_vin(vin), VendorVehicle(make=make, year=year)) == fitted


@pytest.mark.parametrize(("region", "currency"), [("au", "AUD"), ("nz", "NZD"), ("uk", "GBP")])
def test_option_prices_are_in_the_region_currency(region: str, currency: str) -> None:
    response = SearchResponse.model_validate(
        {"vehicle": {"make": "Volkswagen", "model": "Golf", "options": [{"detail": "Sunroof", "price": 1800.4}]}}
    )
    answer = lookup_answer(lookup_facts(VinSearch(vin="WVWZZZ1KZKU000001"), region, response, extended=False))
    options = answer.dump()["vehicle"]["available_options"]
    assert options["currency"] == currency and options["list_prices"] == {"Sunroof": 1800}
    assert f'{currency} list prices: "Sunroof 1800"' in render_lookup(answer)


def test_two_packs_of_one_name_stay_two_entries() -> None:
    response = SearchResponse.model_validate(
        {"vehicle": {"options": [{"detail": "Paint", "price": 700}, {"detail": "Paint", "price": 900}, {"detail": ""}]}}
    )
    answer = lookup_answer(lookup_facts(VinSearch(vin="WVWZZZ1KZKU000001"), "au", response, extended=False))
    assert answer.dump()["vehicle"]["available_options"]["list_prices"] == {"Paint": 700, "Paint (2)": 900}


def test_a_miss_on_a_mistyped_north_american_vin_states_only_what_its_brief_decode_holds() -> None:
    """Behind a miss the decode is brief (maker, a wrong check digit, fixed years): it must not say the country is
    unknown because the brief decode left the country out."""
    response = SearchResponse.model_validate({"vehicle": None, "upstream_vehicle": "2003 HONDA ACCORD"})
    answer = lookup_answer(lookup_facts(VinSearch(vin="1HGCM82633A004353"), "au", response, extended=False))
    assert answer.status == "no_match" and answer.vin_decode is not None
    assert answer.vin_decode.country is None and answer.vin_decode.expected_check_digit == "5"
    decode_line = next(line for line in render_lookup(answer).splitlines() if line.startswith("VIN decode:"))
    assert decode_line == (
        "VIN decode: Honda; check digit wrong: the VIN was probably mistyped (expected 5); model year 2003."
    )
