"""What a script can branch on: the exit status of ``vin-mcp lookup`` and ``vin-mcp build-data``."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a script can branch on."""

    CONFIDENT = 0  # vehicle identified with high confidence, or build data found
    CONFIRM = 1  # an answer, but a person must confirm it (medium/low confidence, candidates, offline decode)
    USAGE = 2  # bad VIN, argument or configuration: fix the input
    NOT_FOUND = 3  # no vehicle / no build data for this VIN
    UPSTREAM = 4  # AutoGrab refused or failed (key, rate limit, outage, timeout): retry or fix the key
    INTERNAL = 5  # a vin-mcp bug


EXIT_CODES_HELP = "exit codes:\n" + "\n".join(
    f"  {code.value}  {text}"
    for code, text in [
        (ExitCode.CONFIDENT, "identified with high confidence / build data found"),
        (ExitCode.CONFIRM, "answer needs confirming (lower confidence, candidates, offline decode)"),
        (ExitCode.USAGE, "bad VIN, argument or configuration"),
        (ExitCode.NOT_FOUND, "no vehicle or build data for this VIN"),
        (ExitCode.UPSTREAM, "AutoGrab failed or refused: retry later or check the key"),
        (ExitCode.INTERNAL, "internal error"),
    ]
)
