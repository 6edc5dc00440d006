"""What the person running vin-mcp sees: log lines per failed call, a bad setting relayed, a terminal told.

Each test runs the real ``vin-mcp`` process and speaks raw JSON-RPC or reads its stderr.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests import fake_autograb as fa
from tests.test_stdout import call, rpc

INITIALIZE = [
    rpc(
        1,
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "operator-test", "version": "0"}},
    ),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    return {**env, **extra}


def converse(env: dict[str, str], lines: list[str], *args: str) -> tuple[dict[int, dict[str, Any]], str, int]:
    """Send the lines, wait for an answer to every request, close stdin: (answers by id, stderr, exit status)."""
    # stderr to a file, not a pipe: a full pipe would stall the server mid-test.
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "vin_mcp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
        assert process.stdin and process.stdout
        wanted = {json.loads(line)["id"] for line in lines if "id" in json.loads(line)}
        answers: dict[int, dict[str, Any]] = {}
        for line in lines:
            process.stdin.write(line + "\n")
        process.stdin.flush()
        while wanted - set(answers):
            message = json.loads(process.stdout.readline())
            if "id" in message:
                answers[message["id"]] = message
        process.stdin.close()
        status = process.wait(timeout=30)
        process.stdout.close()
        errors.seek(0)
        return answers, errors.read(), status


def test_each_failed_call_leaves_one_warning_line_with_its_cause(fake: fa.FakeAutoGrab) -> None:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url, AUTOGRAB_TIMEOUT="0.5")
    faults = ["401", "502", "hang", "success_false_error"]
    lines = [*INITIALIZE, *[call(10 + i, "lookup_vin", vin=fa.FAULTS[name]) for i, name in enumerate(faults)]]
    lines.append(call(20, "lookup_vin", vin="1HGCM8263OA004352"))  # the caller's mistake: not a warning
    lines.append(call(21, "lookup_vin", vin=fa.POLO))
    answers, stderr, _ = converse(env, lines)
    assert all(answers[10 + i]["result"]["isError"] for i in range(len(faults)))
    warnings = [line for line in stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == len(faults), stderr
    causes = ["HTTP 401", "HTTP 502", "did not answer within 0.5 seconds", "Quota exceeded"]
    for cause in causes:  # calls run concurrently: the lines come in any order
        (line,) = [warning for warning in warnings if cause in warning]
        assert line.startswith("WARNING vin_mcp.mcp_server.tools: lookup_vin failed: ")
    # At the default level nothing else: no per-request lines from httpx or the SDK, and never the key.
    assert "HTTP Request" not in stderr and "INFO" not in stderr and fa.API_KEY not in stderr


def test_log_level_from_the_environment_and_after_the_command(fake: fa.FakeAutoGrab) -> None:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url, VIN_MCP_LOG_LEVEL="debug")
    _, stderr, _ = converse(env, [*INITIALIZE, call(2, "lookup_vin", vin=fa.POLO)])
    assert "DEBUG mcp.server" in stderr  # DEBUG lets the libraries speak, and the connections
    assert "DEBUG vin_mcp.autograb.connections: Opening a connection to 127.0.0.1" in stderr
    done = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", fa.POLO, "--log-level", "debug"],
        capture_output=True,
        text=True,
        env=clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url),
        timeout=60,
    )
    assert done.returncode == 0 and "DEBUG" in done.stderr and fa.API_KEY not in done.stderr


def test_a_bad_setting_reaches_the_assistant_in_stdio_mode(fake: fa.FakeAutoGrab) -> None:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url, VIN_MCP_CACHE_TTL="a day")
    lines = [
        *INITIALIZE,
        rpc(2, "tools/list"),
        call(3, "lookup_vin", vin=fa.POLO),
        call(4, "get_factory_build_data", vin=fa.BUILD),
    ]
    answers, stderr, status = converse(env, lines)
    assert {tool["name"] for tool in answers[2]["result"]["tools"]} == {
        "lookup_vin",
        "lookup_registration",
        "get_factory_build_data",
    }
    for id_ in (3, 4):
        result = answers[id_]["result"]
        assert result["isError"]
        (block,) = result["content"]
        assert "VIN_MCP_CACHE_TTL is 'a day'; use a number from 0 to 100000000." in block["text"]
        assert "restart" in block["text"] and "\n" not in block["text"]
    assert "ERROR vin_mcp: VIN_MCP_CACHE_TTL is 'a day'" in stderr
    assert fake.calls() == [] and status == 0


def test_a_bad_setting_still_stops_the_http_server_and_the_command_line() -> None:
    env = clean_env(VIN_MCP_CACHE_TTL="a day")
    for args in (["--transport", "http", "--port", "0"], ["lookup", fa.POLO]):
        done = subprocess.run([sys.executable, "-m", "vin_mcp", *args], capture_output=True, text=True, env=env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("vin-mcp: VIN_MCP_CACHE_TTL is 'a day'") and "Traceback" not in done.stderr


def test_a_terminal_is_told_what_is_happening_and_ctrl_c_is_quiet(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "vin_mcp"], stdin=terminal, stdout=terminal, stderr=stderr, env=clean_env()
        )
    os.close(terminal)
    try:
        deadline = time.monotonic() + 30
        while "lookup VIN" not in stderr_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the server is now reading stdin
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=30)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
    told = stderr_path.read_text()
    assert "waits for an MCP client" in told and "vin-mcp lookup VIN" in told
    assert status == 130 and "Traceback" not in told and "KeyboardInterrupt" not in told


def test_the_fake_api_can_be_started_by_hand_and_its_answers_say_so(tmp_path: Path) -> None:
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_autograb", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert fake.stdout
        printed = [fake.stdout.readline() for _ in range(4)]
        exports = dict(line.strip().removeprefix("export ").split("=", 1) for line in printed if "export " in line)
        assert set(exports) == {"AUTOGRAB_BASE_URL", "AUTOGRAB_API_KEY"}
        env = clean_env(**exports)
        for args in (["lookup", fa.RICH], ["build-data", fa.BUILD, "--limit", "3"], ["lookup", fa.RICH, "--json"]):
            done = subprocess.run(
                [sys.executable, "-m", "vin_mcp", *args], capture_output=True, text=True, env=env, timeout=60
            )
            assert done.returncode == 0, done.stderr
            assert "Test data from vin-mcp's fake AutoGrab API, not a real vehicle record." in done.stdout
    finally:
        fake.send_signal(signal.SIGINT)
        status = fake.wait(timeout=30)
    assert status == 0 and "Traceback" not in (fake.stderr.read() if fake.stderr else "")
