"""Reading the registration authority's free text ("2007 TOYOTA YARIS HATCH"): maker, year, colour. No I/O.

The text is terse and inconsistent ("VOLKS", "MERC", colour and body words in any order), so each
reader returns None when it cannot tell; only what it can place is ever compared with the match.
"""

from __future__ import annotations

import functools
import re

from vin_mcp.vin.makes import FAMILIES, normalise_name

# Brand words that are also ordinary words in registry text ("5 SEAT", "SMART KEY", "DS" for a body code).
_AMBIGUOUS_WORDS = frozenset({"seat", "ds", "smart", "alpine", "ram", "mini", "gm", "cami", "nummi", "samsung"})
# A year standing alone: not part of "2000CC", "MY2015" or "1,998".
_YEAR = re.compile(r"(?<!\w)(?<!\d[.,])(19[5-9]\d|20\d\d)(?!\w|[.,]\d)")
# Colour families: a registry's "SILVER" and a vendor's "Grey Metallic" can be the same paint.
_COLOURS: dict[str, str] = {
    **dict.fromkeys(("white", "cream", "ivory"), "white"),
    "black": "black",
    **dict.fromkeys(("grey", "gray", "silver", "charcoal", "graphite"), "grey"),
    **dict.fromkeys(("red", "maroon", "burgundy"), "red"),
    **dict.fromkeys(("blue", "navy"), "blue"),
    "green": "green",
    **dict.fromkeys(("yellow", "gold"), "yellow"),
    "orange": "orange",
    **dict.fromkeys(("brown", "beige", "bronze", "tan"), "brown"),
    **dict.fromkeys(("purple", "violet"), "purple"),
    "pink": "pink",
}


@functools.lru_cache(maxsize=1024)
def makers(text: str | None) -> dict[str, frozenset[str]]:
    """The brand words in the text that vin-mcp can place, each with its corporate families."""
    if not text:
        return {}
    padded = f" {normalise_name(text)} "
    found: dict[str, set[str]] = {}
    for family, words in FAMILIES.items():
        for word in words:
            if word not in _AMBIGUOUS_WORDS and f" {word} " in padded:
                found.setdefault(word, set()).add(family)
    # "land rover" also contains "rover": keep the longest words only.
    return {
        word: frozenset(families)
        for word, families in found.items()
        if not any(word != other and f" {word} " in f" {other} " for other in found)
    }


def other_maker(text: str | None, families: frozenset[str]) -> str | None:
    """A maker the text names that belongs to none of ``families`` (display form), or None.

    None too when the text names no maker vin-mcp can place, or also names one of ``families``.
    """
    named = makers(text)
    if not named or not families or any(fams & families for fams in named.values()):
        return None
    return next(iter(named)).title()


def year(text: str | None) -> int | None:
    """The first plausible year in the text."""
    found = _YEAR.search(text or "")
    return int(found.group(1)) if found else None


@functools.lru_cache(maxsize=1024)
def colours(text: str | None) -> frozenset[str]:
    """The colour families the text names."""
    words = normalise_name(text or "").split()
    return frozenset(_COLOURS[word] for word in words if word in _COLOURS)


def colour_word(text: str | None) -> str | None:
    """The first colour word of the text as written there, for quoting back."""
    for word in (text or "").split():
        if normalise_name(word) in _COLOURS:
            return word
    return None
