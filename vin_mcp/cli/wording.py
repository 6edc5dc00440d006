"""The answers' and errors' words for a person at a terminal: the server's phrases (tool names, "restart the
server", call arguments) said as commands and options. The JSON output keeps the tools' exact words."""

from __future__ import annotations

import re

_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r" \(in the MCP client's settings for this server\) and restart it\.", " and run the command again."),
        (r", then restart the server\.", ", then run the command again."),
        (r"in the server's environment \(or the bundle's settings\)", "in the environment"),
        (r"\bget_factory_build_data\b", "vin-mcp build-data"),
        (r"\blookup_vin\b", "vin-mcp lookup"),
        (r"\blookup_registration\b", "vin-mcp plate"),
        (r": offset=(\d+), limit=(\d+);", r": run again with --offset \1 --limit \2;"),
        (r"\b[Cc]all again\b", "Run the command again"),
        (r"\bthen call again with it\b", "then run the command again with it"),
        (r"narrow with search", "narrow with --search"),
        (r"the server's default", "AUTOGRAB_REGION"),
    )
)


def for_people(text: str) -> str:
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return text
