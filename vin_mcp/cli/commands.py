"""``vin-mcp lookup``, ``vin-mcp plate`` and ``vin-mcp build-data``: the assistant's answer, for people and scripts.

The JSON printed is exactly the tools' structuredContent; the text is the tools' text with the server's
phrases said as commands (``wording``). With ``--json`` every outcome, errors included, is one JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

import anyio

from vin_mcp.answers.lookup import lookup_answer, offline_answer
from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer, LookupFacts
from vin_mcp.answers.render import render_build_data, render_lookup
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.cli.exit_codes import ExitCode
from vin_mcp.cli.prompt import can_ask, settle_at_terminal
from vin_mcp.cli.wording import for_people
from vin_mcp.errors import (
    ConfigurationError,
    InvalidArgumentError,
    InvalidVinError,
    UpstreamError,
    VinMcpError,
)
from vin_mcp.redaction import Redactor
from vin_mcp.service import VinService, open_service
from vin_mcp.settings import Settings
from vin_mcp.vin.rules import decode_vin, validate_vin

logger = logging.getLogger(__name__)


def lookup_exit_code(answer: LookupAnswer) -> ExitCode:
    if answer.status == "no_match":
        return ExitCode.NOT_FOUND
    if answer.status in ("matched", "user_confirmed") and answer.confidence.level == "high":
        return ExitCode.CONFIDENT
    return ExitCode.CONFIRM


def build_data_exit_code(answer: BuildDataAnswer) -> ExitCode:
    return ExitCode.CONFIDENT if answer.status == "found" else ExitCode.NOT_FOUND


def error_exit_code(error: VinMcpError) -> ExitCode:
    if isinstance(error, InvalidVinError | InvalidArgumentError | ConfigurationError):
        return ExitCode.USAGE
    if isinstance(error, UpstreamError):
        return ExitCode.UPSTREAM
    return ExitCode.INTERNAL


def run_lookup(settings: Settings, request: Callable[[VinService], LookupRequest], *, as_json: bool) -> ExitCode:
    """``request`` makes the lookup's request with the service (its region decides what a plate needs)."""
    facts: list[LookupFacts] = []

    async def call(service: VinService) -> ExitCode:
        facts.append(await service.lookup_facts(request(service)))
        return ExitCode.CONFIDENT

    failed = _run(settings, call, as_json=as_json)
    if not facts:
        return failed
    # The question, if any, is asked once the paid call is done and its event loop has ended (prompt.py).
    ask = not as_json and can_ask(sys.stdin, sys.stderr)
    answer = settle_at_terminal(facts[0]) if ask else lookup_answer(facts[0])
    _print(sys.stdout, settings, _as_json(answer) if as_json else for_people(render_lookup(answer)))
    return lookup_exit_code(answer)


def run_decode(settings: Settings, vin: str, *, region: str | None, as_json: bool) -> ExitCode:
    """What the VIN itself says, never asking AutoGrab (nothing billed, key or no key)."""
    try:
        decoded = decode_vin(validate_vin(vin))
    except InvalidVinError as error:
        report_error(settings, type(error).__name__, for_people(str(error)), ExitCode.USAGE, as_json=as_json)
        return ExitCode.USAGE
    answer = offline_answer(decoded, region or settings.region, asked=True)
    _print(sys.stdout, settings, _as_json(answer) if as_json else for_people(render_lookup(answer)))
    return ExitCode.CONFIDENT


def run_build_data(
    settings: Settings,
    vin: str,
    *,
    region: str | None,
    search: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> ExitCode:
    async def call(service: VinService) -> ExitCode:
        answer = await service.build_data(vin, region, search=search, limit=limit, offset=offset)
        _print(sys.stdout, settings, _as_json(answer) if as_json else for_people(render_build_data(answer)))
        return build_data_exit_code(answer)

    return _run(settings, call, as_json=as_json)


def _run(settings: Settings, call: Callable[[VinService], Awaitable[ExitCode]], *, as_json: bool) -> ExitCode:
    async def main() -> ExitCode:
        async with open_service(settings) as service:
            return await call(service)

    try:
        return anyio.run(main)
    except VinMcpError as error:
        code = error_exit_code(error)
        report_error(settings, type(error).__name__, for_people(str(error)), code, as_json=as_json)
        return code
    except Exception as error:
        # The traceback is for maintainers (--log-level DEBUG); the person at the terminal gets one line.
        logger.debug("Unexpected failure", exc_info=True)
        message = f"internal error ({type(error).__name__}); run again with --log-level DEBUG and report it."
        report_error(settings, "InternalError", message, ExitCode.INTERNAL, as_json=as_json)
        return ExitCode.INTERNAL


def report_error(settings: Settings | None, kind: str, message: str, code: ExitCode, *, as_json: bool) -> None:
    """One line on stderr for people; with --json also the same as one JSON object on stdout, for scripts."""
    redactor = Redactor([*(settings.secrets() if settings else []), *Settings.environment_secrets()])
    print(redactor.text(f"vin-mcp: {message}"), file=sys.stderr)
    if as_json:
        error = {"status": "error", "error": kind, "message": message, "exit_code": int(code)}
        print(redactor.text(json.dumps(error, indent=2)))


def _as_json(answer: LookupAnswer | BuildDataAnswer) -> str:
    """The structuredContent the tool returns, indented for people."""
    return json.dumps(answer.dump(), indent=2)


def _print(stream: TextIO, settings: Settings, text: str) -> None:
    print(Redactor([*settings.secrets(), *Settings.environment_secrets()]).text(text), file=stream)
