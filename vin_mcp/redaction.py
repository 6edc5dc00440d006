"""Removing the API key from everything that leaves the process: tool results, CLI output, logs.

The key is never put in a message on purpose, but the upstream is not ours: an API that echoes the key
in an error, a header or a field must not make vin-mcp pass it on. One ``Redactor`` is applied where
output leaves (the MCP middleware, the CLI printer, the log handler), and it catches the key in any
letter case, URL-encoded, and any leading part of it of ``MIN_PREFIX`` characters or more.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

# Shorter fragments ("sec_") are common words of the key format, not secrets.
MIN_PREFIX = 8
REDACTED = "[redacted]"


def _prefix_pattern(secret: str) -> str:
    """A regex for ``secret[:MIN_PREFIX]`` followed by as much more of the secret as is there."""
    tail = ""
    for char in reversed(secret[MIN_PREFIX:]):
        tail = f"(?:{re.escape(char)}{tail})?"
    return re.escape(secret[:MIN_PREFIX]) + tail


class Redactor:
    """Replaces every form of the given secrets with ``[redacted]``; a no-op without secrets."""

    def __init__(self, secrets: Iterable[SecretStr | str | None] = ()) -> None:
        values = {s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets if s}
        forms = {form for value in values for form in (value, quote(value, safe=""), quote_plus(value))}
        patterns = [_prefix_pattern(form) if len(form) >= MIN_PREFIX else re.escape(form) for form in forms if form]
        # One regex per form: an alternation would stop at the first form that matches (often only the
        # shared prefix of another form), so the spans of every form are merged instead.
        self._patterns = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def __repr__(self) -> str:
        return f"Redactor(active={self._pattern is not None})"

    def text(self, text: str) -> str:
        if self._pattern is None or self._pattern.search(text) is None:
            return text
        spans = sorted(match.span() for pattern in self._patterns for match in pattern.finditer(text))
        pieces, end = [], 0
        for start, stop in spans:
            if start > end:
                pieces.append(text[end:start])
            if stop > end:
                if start >= end:
                    pieces.append(REDACTED)
                end = stop
        pieces.append(text[end:])
        return "".join(pieces)

    def scrub(self, value: Any) -> Any:
        """The same JSON-like value with every string redacted (dict keys included)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(item) for item in value]
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
