"""VIN rules as tables: normalising, validation messages, check digit, WMI, model year."""

from __future__ import annotations

import pytest

from vin_mcp.errors import InvalidVinError
from vin_mcp.vin.rules import compute_check_digit, decode_vin, normalise_vin, validate_vin


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1hgcm82633a004352", "1HGCM82633A004352"),
        ("  1HG CM826 33A004352 ", "1HGCM82633A004352"),
        ("1HG-CM826-33A-004352", "1HGCM82633A004352"),
        ("1HG CM826-33A004352\n", "1HGCM82633A004352"),
        ("WVW\tZZZ6RZAU020000", "WVWZZZ6RZAU020000"),
    ],
)
def test_normalise_and_accept(raw: str, expected: str) -> None:
    assert normalise_vin(raw) == expected
    assert validate_vin(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("", ["No VIN was given"]),
        ("   - ", ["No VIN was given"]),
        ("1HGCM82633A00435", ["16 characters", "exactly 17", "chassis number"]),
        ("1HGCM82633A0043521", ["18 characters"]),
        ("1HGCM8263OA004352", ["character 10 is 'O'", "0 (zero)"]),
        ("1HGCM82633A0O4352", ["character 13 is 'O'"]),
        ("IHGCM82633A004352", ["character 1 is 'I'", "1 (one)"]),
        ("1HGCM82633A00435Q", ["character 17 is 'Q'", "0 (zero)"]),
        ("1HGCM82633A00435!", ["character 17 is '!'", "not allowed"]),
        ("1HGCM82633A00435\x00", ["U+0000"]),
        ("1HGCM82633A00435É", ["character 17 is 'É'"]),
    ],
)
def test_malformed_vins_say_what_is_wrong(raw: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidVinError) as caught:
        validate_vin(raw)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert "windscreen" in message  # the remedy travels with every message
    assert "\n" not in message


def test_many_problems_are_summarised() -> None:
    with pytest.raises(InvalidVinError, match="and more"):
        validate_vin("OOOOOOOOOOOOOOOOO")


@pytest.mark.parametrize(
    ("vin", "digit"),
    [
        ("1HGCM82633A004352", "3"),
        ("1M8GDM9AXKP042788", "X"),
        ("11111111111111111", "1"),
    ],
)
def test_check_digit(vin: str, digit: str) -> None:
    assert compute_check_digit(vin) == digit


@pytest.mark.parametrize(
    ("vin", "status"),
    [
        ("1HGCM82633A004352", "valid"),
        ("1HGCM82603A004352", "invalid"),  # North American: mandatory
        ("WVWZZZ6RZAU020000", "not_verifiable"),  # European: not used, never "invalid"
        ("JTDZZZ1KZKU000010", "not_verifiable"),
        ("6FPAAAJGSW1234567", "not_verifiable"),  # Australian-built Ford
    ],
)
def test_check_digit_verdict(vin: str, status: str) -> None:
    assert decode_vin(vin).check_digit == status


@pytest.mark.parametrize(
    ("vin", "years", "note"),
    [
        # Position 7 a digit: 1980-2009 first; the 2010+ reading stays as a fallback for heavy vehicles.
        ("1HGCM82633A004352", [2003], "position 7 is a digit"),
        ("1M8GDM9AXKP042788", [1989, 2019], "position 7 is a digit"),
        # Position 7 a letter settles the cycle: 2010-2039 (issue 23: "2019 or 1989" was wrong).
        ("5YJSA1E2XHF000337", [2017], "position 7 is a letter"),
        ("5YJ3E1EA6KF123456", [2019], "position 7 is a letter"),
        ("2T1BURHE8JC123456", [2018], "position 7 is a letter"),
        ("1HGCM8263ZA004352", [], "not a model-year code"),
        ("1HGCM82630A004352", [], "not a model-year code"),
        # Makers that code the year at position 10 everywhere: both readings, never one stated as fact.
        ("WVWZZZ6RZAU020000", [2010, 1980], "Volkswagen group codes the model year there"),
        ("WAUZZZF40KA012345", [2019, 1989], "Volkswagen group codes the model year there"),
        ("SALGA2BE5KA123456", [2019, 1989], "Jaguar Land Rover codes the model year there"),
        ("KMHD841CAJU123456", [2018, 1988], "Hyundai and Kia codes the model year there"),
        # Others outside North America: not encoded.
        ("JTNZZZ1KZKU000015", [], "only some makers put a model year at position 10"),
        ("WDD2050421F123456", [], "only some makers put a model year at position 10"),
    ],
)
def test_model_year(vin: str, years: list[int], note: str) -> None:
    decode = decode_vin(vin)
    assert decode.model_years == years
    assert note in decode.model_year_note


def test_future_model_years_are_not_offered() -> None:
    # '3' at position 10 reads 2003 or 2033; 2033 is later than any car on the road today.
    assert 2033 not in decode_vin("1HGCM82633A004352").model_years


@pytest.mark.parametrize(
    ("vin", "manufacturer", "country"),
    [
        ("WVWZZZ6RZAU020000", "Volkswagen", "Germany"),
        ("1HGCM82633A004352", "Honda", "United States"),
        ("JTDZZZ1KZKU000010", "Toyota", "Japan"),
        ("KMHZZZ1KZKU000010", "Hyundai", "South Korea"),  # vininfo says "Genesis": corrected
        ("6FPAAAJGSW1234567", "Ford Australia", "Australia"),
        ("TMBZZZ1KZKU000010", "Škoda", "Czech Republic"),
    ],
)
def test_wmi_decoding(vin: str, manufacturer: str, country: str) -> None:
    decode = decode_vin(vin)
    assert decode.manufacturer == manufacturer
    assert decode.country == country
    assert decode.wmi == vin[:3]


def test_unknown_wmi_is_not_guessed() -> None:
    decode = decode_vin("9ZZZZZ1KZKU000010")
    assert decode.manufacturer is None
