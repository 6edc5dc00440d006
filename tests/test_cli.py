"""`vin-mcp lookup` and `vin-mcp build-data`: the assistant's answer for people, exit codes for scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import anyio
import pytest
from mcp.types import CallToolResult

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from vin_mcp.autograb import client as client_module
from vin_mcp.cli.exit_codes import ExitCode
from vin_mcp.cli.main import main


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, fake: fa.FakeAutoGrab) -> None:
    for name in list(os.environ):
        if name.startswith(("AUTOGRAB_", "VIN_MCP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AUTOGRAB_API_KEY", fa.API_KEY)
    monkeypatch.setenv("AUTOGRAB_BASE_URL", fake.url)
    monkeypatch.setenv("AUTOGRAB_TIMEOUT", "2")
    monkeypatch.setattr(client_module, "BACKOFF_BASE_SECONDS", 0.01)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    assert fa.API_KEY not in out + err
    return code, out, err


def test_lookup_prints_what_the_assistant_gets_in_a_person_s_words(
    fake: fa.FakeAutoGrab, capsys: pytest.CaptureFixture[str]
) -> None:
    async def ask_the_tools() -> tuple[CallToolResult, CallToolResult]:
        async with connect(make_settings(fake)) as client:
            lookup = await client.call_tool("lookup_vin", {"vin": fa.RICH})
            build = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "search": "door"})
        return lookup, build

    tool, build_tool = anyio.run(ask_the_tools)
    code, text, _ = run(capsys, "lookup", fa.RICH)
    json_code, as_json, _ = run(capsys, "lookup", fa.RICH, "--json")
    build_code, build_text, _ = run(capsys, "build-data", fa.BUILD, "--search", "door")
    build_json_code, build_json, _ = run(capsys, "build-data", fa.BUILD, "--search", "door", "--json")
    # The same text, with the tool names said as the commands that do the same.
    tool_text = tool.content[0].text  # type: ignore[union-attr]
    assert "get_factory_build_data can confirm" in tool_text
    assert text.rstrip("\n") == tool_text.replace("get_factory_build_data", "vin-mcp build-data")
    # The JSON is the tools' structuredContent exactly (a cached copy would add its fetch time).
    assert json.loads(as_json) == tool.structured_content
    assert build_text.rstrip("\n") == build_tool.content[0].text  # type: ignore[union-attr]
    assert json.loads(build_json)["codes"] == (build_tool.structured_content or {})["codes"]
    assert (code, json_code, build_code, build_json_code) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("argv", "expected", "needle"),
    [
        (["lookup", fa.POLO], ExitCode.CONFIDENT, "confidence high"),
        (["lookup", fa.REDUCED], ExitCode.CONFIRM, "confidence low"),
        (["lookup", fa.CANDIDATES, "--candidates"], ExitCode.CONFIRM, "Candidates"),
        (["lookup", fa.MAKE_MISMATCH], ExitCode.CONFIRM, "belongs to Toyota"),
        (["lookup", fa.NO_MATCH_NULL], ExitCode.NOT_FOUND, "NO MATCH"),
        (["build-data", fa.BUILD], ExitCode.CONFIDENT, "0A2"),
        (["build-data", fa.BUILD_UNSUPPORTED], ExitCode.NOT_FOUND, "no factory build data"),
        # Not covered (no call made) is the same answer as not available, with its reason.
        (["build-data", fa.MAKE_MISMATCH], ExitCode.NOT_FOUND, "nothing was charged"),
    ],
)
def test_answers_set_exit_codes(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: ExitCode, needle: str
) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == expected
    assert needle in out


@pytest.mark.parametrize(
    ("argv", "expected", "needle"),
    [
        (["lookup", "1HGCM8263OA004352"], ExitCode.USAGE, "never uses I, O or Q"),
        (["build-data", fa.BUILD, "--limit", "0"], ExitCode.USAGE, "limit"),
        (["lookup", fa.FAULTS["401"]], ExitCode.UPSTREAM, "AUTOGRAB_API_KEY"),
        (["lookup", fa.FAULTS["429_far"]], ExitCode.UPSTREAM, "rate limit"),
        (["lookup", fa.FAULTS["503"]], ExitCode.UPSTREAM, "unavailable"),
        (["lookup", fa.FAULTS["html_200"]], ExitCode.UPSTREAM, "unexpected"),
    ],
)
def test_failures_set_exit_codes_and_explain_on_stderr(
    fake: fa.FakeAutoGrab, capsys: pytest.CaptureFixture[str], argv: list[str], expected: ExitCode, needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == expected
    assert out == ""
    assert err.startswith("vin-mcp: ") and needle.lower() in err.lower()
    assert "Traceback" not in err
    if expected is ExitCode.USAGE:
        assert fake.calls() == []  # refused before any paid call


def test_without_a_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AUTOGRAB_API_KEY")
    code, out, _ = run(capsys, "lookup", fa.NA_GOOD, "--json")
    assert code == ExitCode.CONFIRM and json.loads(out)["status"] == "vin_decode_only"
    code, out, err = run(capsys, "build-data", fa.BUILD)
    assert code == ExitCode.USAGE and "AUTOGRAB_API_KEY" in err


def test_bad_configuration_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AUTOGRAB_REGION", "mars")
    code, out, err = run(capsys, "lookup", fa.POLO)
    assert code == 2 and out == "" and "AUTOGRAB_REGION" in err


def test_help_explains_every_mode(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for words in ("--transport http", "lookup VIN", "build-data VIN", "VIN_MCP_HTTP_TOKEN", "AUTOGRAB_API_KEY"):
        assert words in out
    code, out, _ = run(capsys, "lookup", "--help")
    assert "exit codes" in out and "--json" in out


def test_the_installed_command(fake: fa.FakeAutoGrab) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    env.update(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url)
    done = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", fa.POLO, "--region", "nz", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["vehicle"]["model"] == "Polo"
    assert done.stderr == ""
    assert fake.calls()[0].query["region"] == "nz"


def test_an_internal_error_is_one_line_and_exit_5(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from vin_mcp.service import VinService

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(VinService, "lookup_facts", broken)  # fault injection: no real input reaches this path
    code, out, err = run(capsys, "lookup", fa.POLO)
    assert code == ExitCode.INTERNAL and out == ""
    assert err.strip() == "vin-mcp: internal error (RuntimeError); run again with --log-level DEBUG and report it."
    code, out, _ = run(capsys, "lookup", fa.POLO, "--json")
    assert code == ExitCode.INTERNAL
    assert json.loads(out) == {
        "status": "error",
        "error": "InternalError",
        "message": "internal error (RuntimeError); run again with --log-level DEBUG and report it.",
        "exit_code": 5,
    }


def test_unknown_transport_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIN_MCP_TRANSPORT", "carrier-pigeon")
    code, out, err = run(capsys)
    assert code == 2 and out == "" and "VIN_MCP_TRANSPORT" in err and "use one of stdio, http" in err


def test_region_is_accepted_in_any_letter_case(
    fake: fa.FakeAutoGrab, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOGRAB_API_KEY", fa.API_KEY)
    monkeypatch.setenv("AUTOGRAB_BASE_URL", fake.url)
    with pytest.raises(SystemExit) as done:
        main(["lookup", fa.POLO, "--region", "NZ", "--json"])
    assert done.value.code == 0 and '"region": "nz"' in capsys.readouterr().out
    assert fake.calls(fa.POLO)[0].query["region"] == "nz"


@pytest.mark.parametrize(
    ("argv", "env", "kind", "code"),
    [
        (["build-data", fa.BUILD], {}, "MissingApiKeyError", 2),  # no key: build data cannot be asked for
        (["build-data", fa.BUILD, "--limit", "ten"], {"AUTOGRAB_API_KEY": fa.API_KEY}, "UsageError", 2),
        (["lookup", fa.POLO], {"AUTOGRAB_TIMEOUT": "soon"}, "UsageError", 2),
        (["lookup", "1HGCM8263OA004352"], {}, "InvalidVinError", 2),
        (["lookup", fa.FAULTS["401"]], {"AUTOGRAB_API_KEY": fa.API_KEY}, "AuthenticationError", 4),
    ],
)
def test_json_mode_always_prints_one_json_object(
    fake: fa.FakeAutoGrab,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    kind: str,
    code: int,
) -> None:
    monkeypatch.delenv("AUTOGRAB_API_KEY", raising=False)
    monkeypatch.setenv("AUTOGRAB_BASE_URL", fake.url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    exit_code, out, err = run(capsys, *argv, "--json")
    printed = json.loads(out)
    assert printed["status"] == "error" and printed["error"] == kind and printed["exit_code"] == exit_code == code
    assert err == f"vin-mcp: {printed['message']}\n"  # the same line for people, on stderr
    assert "vin-mcp: vin-mcp" not in err and "restart" not in err and "lookup_vin" not in err


def test_no_build_data_in_json_mode_is_an_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "build-data", fa.MAKE_MISMATCH, "--json")  # Toyota: no build data, not charged
    assert code == ExitCode.NOT_FOUND and json.loads(out)["status"] == "not_available"


def test_the_command_line_speaks_in_commands(
    fake: fa.FakeAutoGrab, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOGRAB_API_KEY", fa.API_KEY)
    monkeypatch.setenv("AUTOGRAB_BASE_URL", fake.url)
    _, out, _ = run(capsys, "build-data", fa.BUILD, "--limit", "5")
    assert "the other 295: run again with --offset 5 --limit 295; or narrow with --search." in out
    _, out, _ = run(capsys, "build-data", fa.BUILD_UNSUPPORTED)
    assert "vin-mcp lookup (a separate, billed search)" in out
    _, _, err = run(capsys, "lookup", fa.FAULTS["401"])
    assert err.rstrip().endswith("then run the command again.") and "restart the server" not in err
