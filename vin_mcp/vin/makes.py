"""Brand families: deciding whether two manufacturer names can be the same vehicle maker.

WMI tables name manufacturers ("Ford of Europe", "Škoda", "Genesis" for KMH although most
KMH vehicles are Hyundais); the API names makes ("Ford", "Skoda", "Hyundai"). Comparing the
strings would raise a false alarm on most answers, so names are mapped to the corporate
families that share WMIs and compared by family. A name we cannot place is never a conflict.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# vininfo's WMI table names some manufacturers in ways that are wrong or unrecognisable for vehicles
# on Australian, New Zealand and British roads. Corrected here, each against the vendor contract's own
# list of known errors (../shared/autograb-api.md, "VIN facts") and the public WMI tables of ISO 3780
# assignments (Wikibooks, "Vehicle Identification Numbers (VIN codes)/World Manufacturer Identifier",
# and the open-source decoders that reproduce it): the name shown is the brand a person recognises.
# Makers that put a model-year code at position 10 in every market, not only North America (outside it, most
# do not, and position 10 is then "not encoded"). From each group's own VIN documentation as reproduced in
# the public VIN references above: Volkswagen group (VW, Audi, SEAT, Skoda, Porsche), Jaguar Land Rover,
# Hyundai and Kia, Volvo Cars, and Tesla's plants outside North America. Outside North America nothing settles
# the 30-year cycle, so both readings are given.
YEAR_AT_POSITION_10: dict[str, str] = {
    **dict.fromkeys(
        ("WVW", "WV1", "WV2", "WVG", "WAU", "WA1", "WUA", "TRU", "VSS", "TMB", "WP0", "WP1"), "Volkswagen group"
    ),
    **dict.fromkeys(("SAL", "SAJ", "SAD"), "Jaguar Land Rover"),
    **dict.fromkeys(("KMH", "KM8", "KNA", "KND", "KNE", "TMA"), "Hyundai and Kia"),
    **dict.fromkeys(("YV1", "YV4"), "Volvo Cars"),
    **dict.fromkeys(("LRW", "XP7"), "Tesla"),
}

WMI_CORRECTIONS: dict[str, str] = {
    "JTN": "Toyota",  # vininfo: "Scion" (Scion was a US-only Toyota label; JTN builds Toyotas)
    "KMH": "Hyundai",  # vininfo: "Genesis" (i30, Tucson, Kona; Genesis uses KMT)
    "JF1": "Subaru",  # vininfo: "Subaru / Scion"
    "6G1": "Holden",  # vininfo: "Chevrolet" (GM Holden, Australia, from 2002)
    "6H8": "Holden",  # vininfo: "General Motors-Holden" (GM Holden, Australia, before 2002)
    "WDD": "Mercedes-Benz",  # vininfo: "DaimlerChrysler AG/Daimler AG" (passenger cars)
    "WDC": "Mercedes-Benz",  # vininfo: "DaimlerChrysler AG/Daimler AG" (SUVs)
    "LSJ": "MG",  # vininfo: "SAIC MG" (MG3, ZS, HS: the brand on the car is MG)
    "LGW": "GWM (Great Wall / Haval)",  # vininfo: "Great Wall (Havel)", a misspelling of Haval
}

# Family -> brand words that belong to it. A brand may sit in two families (Opel moved from
# GM to Stellantis; joint ventures build for both partners).
FAMILIES: dict[str, frozenset[str]] = {
    name: frozenset(words)
    for name, words in {
        "volkswagen": [
            "volkswagen",
            "vw",
            "audi",
            "quattro",
            "skoda",
            "seat",
            "cupra",
            "bentley",
            "lamborghini",
            "porsche",
            "bugatti",
        ],
        "gm": [
            "general motors",
            "gm",
            "chevrolet",
            "holden",
            "gmc",
            "buick",
            "cadillac",
            "pontiac",
            "oldsmobile",
            "saturn",
            "hummer",
            "daewoo",
            "opel",
            "vauxhall",
            "hsv",
            "cami",
            "nummi",
        ],
        "stellantis": [
            "stellantis",
            "fca",
            "fiat",
            "abarth",
            "alfa",
            "alfa romeo",
            "lancia",
            "chrysler",
            "dodge",
            "jeep",
            "ram",
            "plymouth",
            "maserati",
            "peugeot",
            "citroen",
            "ds",
            "opel",
            "vauxhall",
            "talbot",
            "simca",
            "tofas",
        ],
        "ford": ["ford", "lincoln", "mercury", "fpv", "auto alliance"],
        "toyota": ["toyota", "lexus", "daihatsu", "scion", "nummi", "hino"],
        "nissan": ["nissan", "infiniti", "datsun"],
        "honda": ["honda", "acura"],
        "renault": ["renault", "dacia", "alpine", "samsung"],
        "bmw": ["bmw", "mini", "rolls royce", "alpina"],
        "mercedes": ["mercedes", "mercedes benz", "benz", "daimler", "smart", "micro compact car", "maybach", "amg"],
        "hyundai": ["hyundai", "kia", "genesis"],
        "jlr": ["jaguar", "land rover", "range rover", "jlr", "rover"],
        "geely": ["geely", "volvo", "polestar", "lotus", "lynk"],
        "mazda": ["mazda", "auto alliance"],
        "mitsubishi": ["mitsubishi"],
        "subaru": ["subaru", "fuji heavy industries"],
        "suzuki": ["suzuki", "maruti", "cami"],
        "isuzu": ["isuzu"],
        "tesla": ["tesla"],
        "saab": ["saab"],
        "tata": ["tata"],
        "ssangyong": ["ssangyong", "kgm"],
        "saic": ["saic", "mg", "ldv", "maxus"],
        "great wall": ["great wall", "haval", "gwm"],
        "byd": ["byd"],
        "chery": ["chery", "omoda", "jaecoo"],
        "mahindra": ["mahindra"],
        "proton": ["proton"],
        "ferrari": ["ferrari"],
        "mclaren": ["mclaren"],
        "aston martin": ["aston martin"],
    }.items()
}

# Makes covered by AutoGrab's factory build data (from the vendor's documentation).
BUILD_DATA_MAKES: frozenset[str] = frozenset(
    {
        "abarth",
        "alfa romeo",
        "alpina",
        "audi",
        "bentley",
        "bmw",
        "buick",
        "cadillac",
        "chevrolet",
        "chrysler",
        "citroen",
        "dacia",
        "daewoo",
        "dodge",
        "ds",
        "fiat",
        "ford",
        "gmc",
        "hummer",
        "hyundai",
        "isuzu",
        "jaguar",
        "jeep",
        "kia",
        "lancia",
        "land rover",
        "lincoln",
        "maybach",
        "mercedes benz",
        "mini",
        "opel",
        "porsche",
        "peugeot",
        "renault",
        "rolls royce",
        "saab",
        "seat",
        "skoda",
        "smart",
        "vauxhall",
        "volkswagen",
        "volvo",
    }
)
BUILD_DATA_FIRST_YEAR = 1999


# Cyrillic and Greek letters drawn like Latin ones, folded to them before names are compared, so "TОYОTA" (with
# Cyrillic О) is compared as TOYOTA. From Unicode TR39's confusables.txt (the letters it maps to one Latin
# letter); what the user sees keeps the text as received.
_CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТУХЅІЈԚԜҮӀаеорсухѕіјԛԝһӏԁ"  # Cyrillic
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοιρνκ",  # Greek
    "ABEKMHOPCTYXSIJQWYIaeopcyxsijqwhldABEZHIKMNOPTYXoipvk",
)


def normalise_name(name: str) -> str:
    """Lower-case ASCII words, look-alike letters folded: 'Škoda' -> 'skoda', 'Mercedes-Benz' -> 'mercedes benz'."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_CONFUSABLES)).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", ascii_name.lower()))


@functools.lru_cache(maxsize=512)
def families_of(name: str | None) -> frozenset[str]:
    """The families a manufacturer or make name belongs to; empty when it cannot be placed."""
    if not name:
        return frozenset()
    padded = f" {normalise_name(name)} "
    return frozenset(family for family, words in FAMILIES.items() if any(f" {w} " in padded for w in words))


def same_maker(vin_manufacturer: str | None, matched_make: str | None) -> bool | None:
    """True/False when both names can be placed, None when either cannot (never a conflict)."""
    left, right = families_of(vin_manufacturer), families_of(matched_make)
    if not left or not right:
        return None
    return bool(left & right)


def build_data_covers(vin_manufacturer: str | None) -> bool | None:
    """Whether build data can exist for this manufacturer; None when it cannot be told."""
    families = families_of(vin_manufacturer)
    if not families:
        return None
    return bool(families & _build_data_families())


@functools.cache
def _build_data_families() -> frozenset[str]:
    """Worked out on first use, not at every start."""
    return frozenset().union(*(families_of(make) for make in BUILD_DATA_MAKES))
