"""The official MCP Inspector CLI drives the real server over stdio against the loopback fake."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tests import fake_autograb as fa
from tests.real_tools import INSPECTOR, npx

pytestmark = pytest.mark.real_clients
ISERROR_EXIT = 5  # the Inspector's exit status for a tool result with isError


def inspect(fake: fa.FakeAutoGrab, *args: str) -> tuple[int, Any, str]:
    done = npx(
        INSPECTOR,
        "--cli",
        sys.executable,
        "-m",
        "vin_mcp",
        "-e",
        f"AUTOGRAB_API_KEY={fa.API_KEY}",
        "-e",
        f"AUTOGRAB_BASE_URL={fake.url}",
        "--format",
        "json",
        *args,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def test_inspector_lists_both_tools_and_strict_finds_no_schema_problem(fake: fa.FakeAutoGrab) -> None:
    code, listed, stderr = inspect(fake, "--method", "tools/list", "--strict")
    assert code == 0, stderr
    tools = {tool["name"]: tool for tool in listed["result"]["tools"]}
    assert set(tools) == {"lookup_vin", "lookup_registration", "get_factory_build_data"}
    assert all("outputSchema" in tool and tool["annotations"]["readOnlyHint"] for tool in tools.values())
    assert "problem" not in stderr.lower()
    assert fake.calls() == []


def test_inspector_calls_lookup_vin(fake: fa.FakeAutoGrab) -> None:
    code, answer, stderr = inspect(
        fake, "--method", "tools/call", "--tool-name", "lookup_vin", "--tool-args-json", json.dumps({"vin": fa.POLO})
    )
    assert code == 0, stderr
    result = answer["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["confidence"]["level"] == "high"
    assert result["content"][0]["text"].startswith(f"VIN {fa.POLO} (AU): matched")


def test_inspector_calls_get_factory_build_data(fake: fa.FakeAutoGrab) -> None:
    args = json.dumps({"vin": fa.BUILD, "search": "DSG", "limit": 2})
    code, answer, stderr = inspect(
        fake, "--method", "tools/call", "--tool-name", "get_factory_build_data", "--tool-args-json", args
    )
    assert code == 0, stderr
    structured = answer["result"]["structuredContent"]
    assert structured["codes"] == [
        "0EG: Dual-clutch transmission DSG DQ200",
        "001: Dual-clutch transmission DSG DQ200 variant 1",
    ]
    assert structured["build_date"] == "2019-03-19" and structured["next_offset"] == 2


def test_inspector_sees_refusals_as_tool_errors(fake: fa.FakeAutoGrab) -> None:
    args = json.dumps({"vin": "1HGCM8263OA004352"})
    code, answer, _ = inspect(fake, "--method", "tools/call", "--tool-name", "lookup_vin", "--tool-args-json", args)
    assert code == ISERROR_EXIT
    assert answer["result"]["isError"] is True
    assert "never uses I, O or Q" in answer["result"]["content"][0]["text"]
    assert fake.calls() == []
