"""Removing the API key from everything that leaves the process: tool results, CLI output, logs.

The key is never put in a message on purpose, but the upstream is not ours: an API that echoes the key
in an error, a header or a field must not make vin-mcp pass it on. One ``Redactor`` is applied where
output leaves (the MCP middleware, the CLI printer, the log handler), and it catches the key in any
letter case, URL-encoded, any leading part of it of ``MIN_PREFIX`` characters or more, and any ``MIN_RUN``
characters of it in a row (a key shown masked, or cut). A secret shorter than ``MIN_PREFIX`` is removed where it
stands alone (not inside a longer word or number).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import SecretStr
from pydantic_core import to_json

# A leading part of a secret this long is removed ("sec_" alone is a common word of the key format)...
MIN_PREFIX = 8
# ...and so is any run of this many of its characters, wherever it starts (a key shown masked, "****xyz…").
MIN_RUN = 12
# Text is probed at every GRAM-th position for a GRAM-character piece of a secret: any run of MIN_PREFIX or
# more characters covers one such aligned piece, so nothing is missed, and a text without one costs a few
# dictionary look-ups per hundred characters.
GRAM = 4
# The pieces a whole result is searched for first, one at every ANY_STRIDE-th character of a form: as few as can
# be while any MIN_RUN in a row, and any MIN_PREFIX leading characters, hold one whole
# (ANY_GRAM + ANY_STRIDE - 1 <= MIN_RUN, ANY_GRAM <= MIN_PREFIX).
ANY_GRAM = 6
ANY_STRIDE = 7
# The quick check for a run of a secret's characters is skipped when the secrets hold this many different letters
# (either case) or more: ordinary text is full of runs of them.
RUN_CHECK_LETTERS = 20
REDACTED = "[redacted]"
# Keys and their URL-encoded forms are ASCII: folding ASCII case keeps every index of the text where it was.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _every_symbol_encoded(value: str) -> str:
    """The form a URL encoder that also encodes unreserved symbols gives ("sec%5F…" for "sec_…")."""
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"%{b:02X}" for b in c.encode()) for c in value)


class Redactor:
    """Replaces every form of the given secrets with ``[redacted]``; a no-op without secrets.

    A form is the secret itself, URL-encoded (with or without its symbols), or form-encoded, in any ASCII letter
    case; what is removed is
    a whole form, its first ``MIN_PREFIX`` or more characters, or any ``MIN_RUN`` or more of them in a row.
    """

    def __init__(self, secrets: Iterable[SecretStr | str | None] = ()) -> None:
        values = {s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets if s}
        forms = {
            form.translate(_ASCII_LOWER)
            for value in values
            for form in (value, quote(value, safe=""), quote_plus(value), _every_symbol_encoded(value))
            if form
        }
        self._forms = sorted(form for form in forms if len(form) >= MIN_PREFIX)
        self._short = sorted(form for form in forms if len(form) < MIN_PREFIX)
        self._grams: dict[str, list[tuple[str, int]]] = {}
        for form in self._forms:
            for offset in range(len(form) - GRAM + 1):
                self._grams.setdefault(form[offset : offset + GRAM], []).append((form, offset))
        self.active = bool(forms)
        # One search over a whole result finds whether any piece of a secret is in it at all (almost never). Every
        # span removed (a leading 8, or any 12 in a row) holds one of the form's pieces.
        aligned = {
            form[start : start + ANY_GRAM]
            for form in self._forms
            for start in range(0, len(form) - ANY_GRAM + 1, ANY_STRIDE)
        }
        pieces = sorted({*aligned, *self._short})
        # Each looked for with bytes' own search: quicker than one regular expression of alternatives.
        self._pieces = tuple(piece.encode() for piece in pieces)
        # Cheaper still, before that search: anything removed is a run of at least MIN_PREFIX characters (the whole
        # of a short form) drawn from the secrets' own characters, found by one translate and one find.
        # The mask reads both letter cases, so the text need not be folded for it.
        alphabet = {ord(c) for form in forms for c in (*form, *form.upper())}
        self._mask = bytes(1 if b in alphabet else 0 for b in range(256))
        self._run = b"\x01" * min([MIN_PREFIX, *(len(form) for form in forms)])
        # A secret drawing on most letters makes that run of ordinary words (a VIN, "structuredContent"): the check
        # would pass on nearly every result and only add its cost, so such secrets go straight to the search.
        letters = {chr(b).lower() for b in alphabet if chr(b).isascii() and chr(b).isalpha()}
        self._check_runs = len(letters) < RUN_CHECK_LETTERS
        # Serialised as JSON, a quotation mark, backslash or control character is escaped and no longer reads as
        # itself: a secret with one is looked for by walking every string.
        self._walk_always = any(c in '"\\' or ord(c) < 0x20 for form in forms for c in form)

    def __repr__(self) -> str:
        return f"Redactor(active={self.active})"

    def text(self, text: str, *, short: bool = True) -> str:
        """``text`` without the secrets; ``short=False`` leaves secrets shorter than MIN_PREFIX (for field names)."""
        if not self.active:
            return text
        low = text.translate(_ASCII_LOWER)
        spans = self._runs(low)
        for form in self._short if short else ():
            start = low.find(form)
            while start != -1:
                stop = start + len(form)
                # A secret this short is also an ordinary piece of words ("x" in "text"): removed only where it
                # stands alone, so it cannot break every word, or the protocol's own keys, that contain it.
                if not (start and low[start - 1].isalnum()) and not (stop < len(low) and low[stop].isalnum()):
                    spans.append((start, stop))
                start = low.find(form, start + 1)
        if not spans:
            return text
        pieces, end = [], 0
        for start, stop in sorted(spans):
            if start > end:
                pieces.append(text[end:start])
            if stop > end:
                if start >= end:
                    pieces.append(REDACTED)
                end = stop
        pieces.append(text[end:])
        return "".join(pieces)

    def _runs(self, low: str) -> list[tuple[int, int]]:
        """Spans of ``low`` that are a secret's prefix of MIN_PREFIX+ characters, or a run of MIN_RUN+ of it."""
        spans: list[tuple[int, int]] = []
        grams = self._grams
        size = len(low)
        for probe in range(0, size - GRAM + 1, GRAM):
            places = grams.get(low[probe : probe + GRAM])
            if places is None:
                continue
            for form, offset in places:
                left = 0
                while left < min(probe, offset) and low[probe - left - 1] == form[offset - left - 1]:
                    left += 1
                right = 0
                limit = min(size - probe, len(form) - offset) - GRAM
                while right < limit and low[probe + GRAM + right] == form[offset + GRAM + right]:
                    right += 1
                length = left + GRAM + right
                if length >= MIN_RUN or (offset == left and length >= MIN_PREFIX):
                    spans.append((probe - left, probe + GRAM + right))
        return spans

    def scrub(self, value: Any) -> Any:
        """The same JSON-like value with every string redacted (dict keys included)."""
        if not self._pieces:
            return value
        if isinstance(value, str) or self._walk_always:
            return self._scrub(value)
        flat = to_json(value, fallback=str)
        if self._check_runs and self._run not in flat.translate(self._mask):
            return value  # nothing that could be a piece of a secret anywhere in it: no walk needed
        flat = flat.lower()  # ASCII letters only, like _ASCII_LOWER
        if not any(piece in flat for piece in self._pieces):
            return value
        return self._scrub(value)

    def _scrub(self, value: Any) -> Any:
        if not self.active:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            # Field names lose only a secret's longer forms: a short one removed there would break the structure.
            return {self.text(k, short=False) if isinstance(k, str) else k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(item) for item in value]
        return value


class RedactingFilter(logging.Filter):
    """A handler filter: each record is formatted, redacted and frozen before any handler writes it.

    On a handler rather than a logger, so records from every library (httpx, httpcore, uvicorn, the
    SDK) are covered at every level.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


def install_log_redaction(redactor: Redactor, logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        for existing in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(existing)
        handler.addFilter(RedactingFilter(redactor))
