"""The key never leaves (issue 9, point 7): an upstream that echoes it, in any form, in any place.

The key here has characters that URL-encoding changes, so the encoded forms differ from the plain one.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from pydantic import SecretStr

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from vin_mcp.mcp_server.server import scrub_result
from vin_mcp.redaction import REDACTED, RedactingFilter, Redactor

ODD_KEY = "sec_T3st+Key/42=odd&chars_9f8e7d6c"
FORMS = [ODD_KEY, ODD_KEY.lower(), ODD_KEY.upper(), quote(ODD_KEY, safe=""), quote_plus(ODD_KEY), ODD_KEY[:12]]
ECHO = fa.eu_vin(5_000)
ECHO_ERROR = fa.eu_vin(5_001)
ECHO_BUILD = "WVWZZZAWZKU065377"

pytestmark = pytest.mark.anyio


def leaks(text: str) -> list[str]:
    """Every form of the key (or its first 8 characters, in any case) found in ``text``."""
    lowered = text.lower()
    return [form for form in [*FORMS, ODD_KEY[:8]] if form.lower() in lowered]


@pytest.fixture(scope="module")
def echoing() -> Iterator[fa.FakeAutoGrab]:
    fake = fa.FakeAutoGrab(api_key=ODD_KEY).start()
    yield fake
    fake.stop()


@pytest.fixture
def echo(echoing: fa.FakeAutoGrab) -> fa.FakeAutoGrab:
    echoing.reset()
    echoed = " | ".join(FORMS)
    vehicle = fa.vehicle(title=f"Polo {FORMS[3]}", options=[{"detail": f"Pack {FORMS[4]}", "price": 1}])
    body = fa.match_body(ECHO, vehicle, upstream_vehicle=echoed, colour=FORMS[1], extended_data={FORMS[0]: echoed})
    echoing.script("search", ECHO, fa.Reply(body=body, headers={"X-Echo": ODD_KEY, "Retry-After": FORMS[2]}))
    echoing.script("search", ECHO_ERROR, fa.Reply(status=400, body={"error": True, "message": f"bad key {echoed}"}))
    build = {"vehicle": {"make": FORMS[5], "features": [{"code": "0A2", "value": f"4 doors {ODD_KEY}"}]}}
    echoing.script("build", ECHO_BUILD, fa.Reply(body=build))
    return echoing


def test_every_form_is_redacted() -> None:
    redactor = Redactor([ODD_KEY])
    for form in FORMS:
        assert redactor.text(f"x {form} y") == f"x {REDACTED} y", form
    assert redactor.text("sec_ alone and sec_T3s (7 characters) are not the key") == (
        "sec_ alone and sec_T3s (7 characters) are not the key"
    )
    nested: Any = {"a": [ODD_KEY, {"b": FORMS[3]}], FORMS[0]: 1}
    assert leaks(json.dumps(redactor.scrub(nested))) == []
    assert repr(redactor) == "Redactor(active=True)" and Redactor([None]).text(ODD_KEY) == ODD_KEY


@pytest.mark.parametrize(
    "secret",
    [
        "Zq8mK2xP9wL4vN7bT1cR6yH3jF5gD0sA",  # every letter and digit: the quick check finds runs everywhere
        'pass"word\\with-escapes',  # JSON escapes these: looked for by walking every string
        "short7",  # shorter than a leading part: removed whole
    ],
)
def test_a_result_is_searched_once_and_walked_only_when_a_piece_is_in_it(secret: str) -> None:
    redactor = Redactor([secret])
    clean: Any = {"content": [{"type": "text", "text": "Volkswagen Golf Highline"}], "structuredContent": {"a": 1}}
    assert redactor.scrub(clean) == clean
    for leaked in (secret, secret[:8], secret[2:14], secret.upper()):
        if len(leaked) < min(8, len(secret)):
            continue
        result = redactor.scrub({"structuredContent": {"deep": [{"x": f"a {leaked} b"}]}})
        assert secret[:8].lower() not in json.dumps(result).lower(), leaked


@pytest.mark.parametrize(
    "secret",
    [
        "Zq8mK2xP9wL4vN7bT1cR6yH3jF5gD0sA",
        fa.API_KEY,
        "sec_ADVERSARY_key_0123456789abcdefghij",
        *("k" + "0123456789abcdefghijklmnopqrstuvwxyz"[:n] for n in range(7, 30)),  # every length from 8 to 30
    ],
)
def test_whole_results_lose_every_run_of_twelve_and_every_leading_eight_of_a_secret(secret: str) -> None:
    """The quick search over a whole result looks for a few pieces of each secret, not every one: no run the
    redactor removes may slip past it, at any offset."""
    redactor = Redactor([secret])
    leaks = [secret[start : start + 12] for start in range(len(secret) - 11)]
    leaks += [secret[:length] for length in range(8, len(secret) + 1)]
    for leak in leaks:
        result = {"content": [{"type": "text", "text": "Golf"}], "structuredContent": {"note": f"echo {leak}."}}
        assert redactor.scrub(result)["structuredContent"]["note"] == f"echo {REDACTED}.", leak


@pytest.mark.parametrize("secret", ["x", "text", "k3y"])
def test_a_short_secret_is_removed_where_it_stands_alone_and_never_breaks_the_protocol(secret: str) -> None:
    """A one-letter key once turned every "text" in a result into "te[redacted]t", and the client could not read
    it. What the protocol itself defines stays, even when a secret equals it."""
    redactor = Redactor([secret])
    result: Any = {
        "content": [{"type": "text", "text": f"Context: {secret} was sent; texts and k3ys stay."}],
        "structuredContent": {"note": f"({secret})"},
        "isError": False,
    }
    scrubbed = scrub_result(redactor, result)
    assert scrubbed["content"][0]["type"] == "text"
    assert scrubbed["content"][0]["text"] == f"Context: {REDACTED} was sent; texts and k3ys stay."
    assert scrubbed["structuredContent"] == {"note": f"({REDACTED})"} and scrubbed["isError"] is False


def test_log_records_are_redacted_before_any_handler_writes_them() -> None:
    record = logging.LogRecord(
        "httpcore.http11", logging.DEBUG, __file__, 1, "headers=%r", ([(b"X-Echo", b"?")],), None
    )
    record.args = ([(b"X-Echo", ODD_KEY.encode())],)
    try:
        raise ValueError(f"boom {FORMS[3]}")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactingFilter(Redactor([ODD_KEY])).filter(record)
    written = logging.Formatter().format(record)
    assert leaks(written) == [] and REDACTED in written and "boom" in written


async def test_tool_results_never_carry_the_key(echo: fa.FakeAutoGrab) -> None:
    settings = make_settings(echo, api_key=ODD_KEY)
    async with connect(settings) as client:
        results = [
            await client.call_tool("lookup_vin", {"vin": ECHO, "include_extended_data": True}),
            await client.call_tool("lookup_vin", {"vin": ECHO}),  # from the cache
            await client.call_tool("lookup_vin", {"vin": ECHO_ERROR}),
            await client.call_tool("get_factory_build_data", {"vin": ECHO_BUILD}),
        ]
    assert not results[0].is_error and results[2].is_error and not results[3].is_error
    for result in results:
        dumped = result.model_dump_json()
        assert leaks(dumped) == [], dumped
        assert REDACTED in dumped
    # Both channels of the answer are redacted, not only the text.
    assert REDACTED in json.dumps(results[0].structured_content)
    assert len(echo.calls(ECHO)) == 1


def _env(echo: fa.FakeAutoGrab) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    return env | {"AUTOGRAB_API_KEY": ODD_KEY, "AUTOGRAB_BASE_URL": echo.url}


@pytest.mark.parametrize(
    "argv",
    [
        ["lookup", ECHO, "--extended"],
        ["lookup", ECHO, "--json"],
        ["lookup", ECHO_ERROR],
        ["build-data", ECHO_BUILD, "--json"],
    ],
)
def test_cli_output_and_debug_logs_never_carry_the_key(echo: fa.FakeAutoGrab, argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "--log-level", "DEBUG", *argv],
        env=_env(echo),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1, 4), done.stderr
    assert "DEBUG vin_mcp.autograb.connections" in done.stderr  # the transport's debug lines were written too
    assert leaks(done.stdout) == [] and leaks(done.stderr) == [], (done.stdout, done.stderr)
    assert REDACTED in done.stdout + done.stderr


def test_stdio_server_debug_logs_never_carry_the_key(echo: fa.FakeAutoGrab, tmp_path: Path) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "lookup_vin", "arguments": {"vin": ECHO}},
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "lookup_vin", "arguments": {"vin": ECHO_ERROR}},
        },
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "--log-level", "DEBUG"],
        env=_env(echo),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.txt").open("w"),
        text=True,
    )
    assert process.stdin and process.stdout
    process.stdin.write("\n".join(json.dumps(m) for m in messages) + "\n")
    process.stdin.flush()
    replies: dict[int, Any] = {}
    while len(replies) < 3:
        line = process.stdout.readline()
        if not line:
            break
        message = json.loads(line)
        replies[message.get("id", 0)] = message
    process.stdin.close()
    stdout = process.stdout.read()
    process.wait(timeout=60)
    stderr = (tmp_path / "stderr.txt").read_text()
    everything = json.dumps(replies) + stdout + stderr
    assert {1, 2, 3} <= set(replies) and replies[3]["result"]["isError"] is True
    assert "DEBUG" in stderr and leaks(everything) == [], everything[-2000:]


@pytest.mark.anyio
async def test_a_one_letter_api_key_still_gets_readable_answers(fake: fa.FakeAutoGrab) -> None:
    async with connect(make_settings(fake, api_key=SecretStr("x"))) as client:
        tools = await client.list_tools()
        result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
    assert {tool.name for tool in tools.tools} >= {"lookup_vin", "get_factory_build_data"}
    assert result.is_error and "rejected the API key" in result.content[0].text  # type: ignore[union-attr]
