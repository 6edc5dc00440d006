"""VIN rules: normalising, validating and decoding a VIN offline. No I/O.

Manufacturer and country names come from ``vininfo``'s WMI and ISO 3780 tables; its
checksum and year verdicts are not used because they ignore the North American / rest of
the world split below.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vin_mcp.errors import InvalidVinError
from vin_mcp.vin.makes import WMI_CORRECTIONS, YEAR_AT_POSITION_10

VIN_LENGTH = 17
# Input this long is refused by its length alone, before any per-character work.
LONGEST_READ = 64
VIN_ALPHABET = frozenset("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
# I, O and Q are banned everywhere because they read as 1 and 0.
_LIKELY_MEANT = {"I": "1 (one)", "O": "0 (zero)", "Q": "0 (zero)"}
# Only what people type between groups of a VIN; any other character is refused, never dropped or
# case-folded (str.upper() turns "ß" into "SS" and would send a different VIN to a paid search).
_SEPARATORS = re.compile(r"[ \t\r\n-]+")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_TRANSLITERATION = {
    **{c: i + 1 for i, c in enumerate("ABCDEFGH")},
    **{c: i + 1 for i, c in enumerate("JKLMN")},
    "P": 7,
    "R": 9,
    **{c: i + 2 for i, c in enumerate("STUVWXYZ")},
    **{str(d): d for d in range(10)},
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Position 10 model-year codes, a 30-year cycle starting 1980 (and again 2010).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_NORTH_AMERICA = frozenset("12345")

CheckDigitStatus = Literal["valid", "invalid", "not_verifiable"]


class VinDecode(BaseModel):
    """What the VIN itself says, without any paid lookup. Frozen: ``decode_vin`` hands one decode to every caller."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    vin: str = Field(description="Normalised 17-character VIN.")
    wmi: str = Field(description="World manufacturer identifier (positions 1-3).")
    manufacturer: str | None = Field(None, description="Manufacturer registered for the WMI, if known.")
    country: str | None = Field(None, description="Country of manufacture from positions 1-2 (ISO 3780).")
    continent: str | None = Field(None, description="Region of manufacture from position 1.")
    north_american: bool = Field(description="True when the VIN follows the North American (FMVSS 115) rules.")
    check_digit: CheckDigitStatus = Field(
        description="Position 9 check digit: valid, invalid (North American VIN with a wrong check digit: "
        "probably mistyped), or not_verifiable (most non-North-American VINs do not use one)."
    )
    expected_check_digit: str | None = Field(None, description="The check digit the other 16 characters imply.")
    model_years: list[int] = Field(
        default_factory=list,
        description="Model years position 10 can mean, most likely first; empty when the VIN encodes none.",
    )
    model_year_note: str = Field(description="How the model year was or was not read from the VIN.")


def normalise_vin(raw: str) -> str:
    """Drop the spaces and dashes people type into VINs and upper-case ASCII letters; nothing else changes."""
    return _SEPARATORS.sub("", raw).translate(_ASCII_UPPER)


def validate_vin(raw: str) -> str:
    """Return the normalised VIN or raise ``InvalidVinError`` saying exactly what is wrong."""
    if not isinstance(raw, str):
        raise InvalidVinError("The VIN must be given as text.")
    vin = normalise_vin(raw[:LONGEST_READ])
    if not vin:
        raise InvalidVinError("No VIN was given.")
    if len(raw) >= LONGEST_READ:  # not read any further: whatever it is, it is not a VIN
        raise InvalidVinError(f"That is {len(raw)} characters of text, not a VIN: a VIN has exactly {VIN_LENGTH}.")
    problems: list[str] = []
    for position, char in enumerate(vin, start=1):
        if char in _LIKELY_MEANT:
            problems.append(
                f"character {position} is '{char}', which never appears in a VIN: it is probably {_LIKELY_MEANT[char]}"
            )
        elif char not in VIN_ALPHABET:
            problems.append(f"character {position} is {_describe(char)}, which is not allowed in a VIN")
    if len(vin) != VIN_LENGTH:
        problems.insert(
            0,
            f"it has {len(vin)} characters, a VIN has exactly {VIN_LENGTH}"
            + (
                " (older Australian and New Zealand vehicles may carry a chassis number instead, "
                "which this service cannot look up)"
                if len(vin) < VIN_LENGTH
                else ""
            ),
        )
    if problems:
        shown = "; ".join(problems[:4]) + ("; and more" if len(problems) > 4 else "")
        raise InvalidVinError(f"'{_excerpt(vin)}' is not a valid VIN: {shown}.")
    placeholder = _placeholder(vin)
    if placeholder is not None:
        raise InvalidVinError(f"'{vin}' is a placeholder, not a vehicle's VIN: {placeholder}.")
    return vin


# The VIN alphabet in order, for spotting counting sequences typed as filler ("ABCDEFGHJKLMNPRST").
_ORDERED = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _placeholder(vin: str) -> str | None:
    """What gives away filler typed in place of a VIN (some even pass the check digit and would be billed)."""
    if len(set(vin)) <= 2:
        return "it is one or two characters repeated"
    if vin.isdigit():
        steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(vin)}
        if steps in ({1}, {9}):
            return "it is the digits counted in order"
    if vin.isalpha():
        steps = {_ORDERED.index(b) - _ORDERED.index(a) for a, b in itertools.pairwise(vin)}
        if steps in ({1}, {-1}):
            return "it is the alphabet in order"
    return None


def compute_check_digit(vin: str) -> str:
    """The ISO 3779 / FMVSS 115 check digit for a 17-character VIN of valid characters."""
    total = sum(_TRANSLITERATION[char] * weight for char, weight in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_north_american(vin: str) -> bool:
    return vin[0] in _NORTH_AMERICA


def model_years(vin: str) -> tuple[list[int], str]:
    """Model-year candidates (most likely first) and a note on how they were read; none is ever a guess."""
    code = vin[9]
    maker = YEAR_AT_POSITION_10.get(vin[:3])
    if not is_north_american(vin) and maker is None:
        return [], "not encoded: outside North America only some makers put a model year at position 10"
    if code not in _YEAR_CODES:
        return [], f"not encoded: position 10 is '{code}', which is not a model-year code"
    offset = _YEAR_CODES.index(code)
    early, late = 1980 + offset, 2010 + offset
    latest_possible = date.today().year + 1
    if not is_north_american(vin):
        years = [year for year in (late, early) if year <= latest_possible]
        return years, f"position 10 '{code}' ({maker} codes the model year there; the code repeats every 30 years)"
    # Cars and light trucks (49 CFR 565.15): position 7 is a letter for 2010-2039 and a digit for 1980-2009.
    # A heavy vehicle need not follow it, so a digit keeps the later reading as a fallback.
    if vin[6].isalpha():
        years, reason = [late], "position 7 is a letter: 2010 or later"
    else:
        years, reason = [early, late], "position 7 is a digit: 1980-2009 for a car or light truck"
    years = [year for year in years if year <= latest_possible]
    return years, f"position 10 '{code}' with {reason} (the position-7 rule holds for cars and light trucks)"


@functools.lru_cache(maxsize=1024)
def decode_vin(vin: str) -> VinDecode:
    """Decode a VIN that ``validate_vin`` accepted (kept for the next answer: a decode is shaped into every one)."""
    # vininfo's tables load on the first decode, not while the server starts (about 5 ms).
    from vininfo.dicts import COUNTRIES, REGIONS

    north_american = is_north_american(vin)
    expected = compute_check_digit(vin)
    if vin[8] == expected:
        status: CheckDigitStatus = "valid"
    elif north_american:
        status = "invalid"
    else:
        status = "not_verifiable"
    years, note = model_years(vin)
    return VinDecode(
        vin=vin,
        wmi=vin[:3],
        manufacturer=wmi_manufacturer(vin[:3]),
        country=COUNTRIES.get(vin[:2]),
        continent=next((name for codes, name in REGIONS.items() if vin[0] in codes), None),
        north_american=north_american,
        check_digit=status,
        expected_check_digit=expected,
        model_years=years,
        model_year_note=note,
    )


def wmi_manufacturer(wmi: str) -> str | None:
    """The brand registered for a WMI: vininfo's table, with our sourced corrections on top."""
    if wmi in WMI_CORRECTIONS:
        return WMI_CORRECTIONS[wmi]
    from vininfo.dicts import WMI

    entry = WMI.get(wmi) or WMI.get(wmi[:2])
    if entry is None:
        return None
    if isinstance(entry, str):
        return entry
    # vininfo stores some entries as Brand/Assembler classes or instances.
    manufacturer = getattr(entry, "manufacturer", None)
    if isinstance(manufacturer, str):
        return manufacturer
    try:
        return str(entry().manufacturer)
    except Exception:
        return None


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    if char.isascii() and char.isprintable():
        return f"'{char}'"
    if char.isprintable() and not char.isspace():
        return f"'{char}' (U+{ord(char):04X} {name})".replace(" )", ")")
    return f"U+{ord(char):04X} {name or 'a control or invisible character'}".rstrip()


def _excerpt(vin: str, limit: int = 24) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in vin)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"
