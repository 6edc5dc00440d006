"""Making text from the API safe to show an assistant.

Registration descriptions, option names and extended data are free text from third parties:
control and format characters are removed (they can hide text or break the rendering),
whitespace is folded and length is capped, so the text can be quoted as data and cannot pass
for instructions.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import SecretStr

DEFAULT_LIMIT = 200
_LINE_BREAKS = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def _printable_or_space(ch: str) -> str:
    if ch in _LINE_BREAKS:
        return " "
    return "" if unicodedata.category(ch) in _DROP_CATEGORIES else ch


def clean_text(value: Any, limit: int = DEFAULT_LIMIT) -> str:
    """One line of printable text, at most ``limit`` characters (an ellipsis marks a cut)."""
    text = value if isinstance(value, str) else str(value)
    folded = " ".join("".join(map(_printable_or_space, text)).split())
    if len(folded) > limit:
        return folded[: limit - 1].rstrip() + "…"
    return folded


def clean_optional(value: Any, limit: int = DEFAULT_LIMIT) -> str | None:
    if value is None:
        return None
    text = clean_text(value, limit)
    return text or None


def redact(text: str, secret: SecretStr | None) -> str:
    """Belt and braces: the key is never put in a message, but upstream text is not ours."""
    value = secret.get_secret_value() if secret is not None else ""
    return text.replace(value, "[redacted]") if value else text
