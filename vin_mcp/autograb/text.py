"""Making text from the API safe to show an assistant.

Registration descriptions, option names and extended data are free text from third parties. They
are cleaned once, where the vendor payload is parsed: compatibility forms folded (NFKC, so full-width
look-alikes become plain letters), control, format and invisible characters removed (they can hide
text or break the rendering), whitespace folded and length capped, so the text can be quoted as data
and cannot pass for instructions.
"""

from __future__ import annotations

import unicodedata
from typing import Any

DEFAULT_LIMIT = 200
_LINE_BREAKS = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt) that is not already a format
# character, plus blanks that render as nothing: variation selectors, Hangul fillers, the combining
# grapheme joiner, Mongolian free variation selectors and the Braille blank (U+2800).
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)


def _invisible(code: int) -> bool:
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def _printable_or_space(ch: str) -> str:
    if ch in _LINE_BREAKS:
        return " "
    if unicodedata.category(ch) in _DROP_CATEGORIES or _invisible(ord(ch)):
        return ""
    return ch


def clean_text(value: Any, limit: int = DEFAULT_LIMIT) -> str:
    """One line of printable text, at most ``limit`` characters (an ellipsis marks a cut)."""
    text = value if isinstance(value, str) else str(value)
    # Cut before the per-character work, so a 2 MB field costs what a short one does; the margin leaves room
    # for what cleaning removes (invisible characters, runs of spaces) and for NFKC joining characters.
    text = text[: limit * 4 + 16]
    if not (text.isascii() and text.isprintable()):
        text = "".join(map(_printable_or_space, unicodedata.normalize("NFKC", text)))
    folded = " ".join(text.split())
    if len(folded) > limit:
        return folded[: limit - 1].rstrip() + "…"
    return folded


def clean_optional(value: Any, limit: int = DEFAULT_LIMIT) -> str | None:
    if value is None:
        return None
    text = clean_text(value, limit)
    return text or None
