"""stdout belongs to the protocol: raw JSON-RPC over the real process, good and bad, and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests import fake_autograb as fa


def rpc(id_: int, method: str, params: dict[str, Any] | None = None) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


def call(id_: int, tool: str, **arguments: Any) -> str:
    return rpc(id_, "tools/call", {"name": tool, "arguments": arguments})


def test_stdout_carries_only_protocol_messages(fake: fa.FakeAutoGrab, tmp_path: Path) -> None:
    lines = [
        rpc(
            1,
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw-test", "version": "0"}},
        ),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "this is not json",
        '{"jsonrpc": "2.0", "id": 2, "method": ',
        json.dumps({"jsonrpc": "2.0", "id": 3}),
        rpc(4, "no/such/method"),
        rpc(5, "tools/list"),
        call(6, "lookup_vin", vin=fa.POLO),
        call(7, "lookup_vin", vin="1HGCM8263OA004352"),
        call(8, "lookup_vin"),
        call(9, "no_such_tool", vin=fa.POLO),
        *[call(10 + i, "lookup_vin", vin=vin) for i, vin in enumerate(fa.FAULTS.values())],
        call(99, "get_factory_build_data", vin=fa.BUILD, limit=5000),
        call(100, "get_factory_build_data", vin=fa.BUILD),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    env |= {"AUTOGRAB_API_KEY": fa.API_KEY, "AUTOGRAB_BASE_URL": fake.url, "AUTOGRAB_TIMEOUT": "0.5"}
    expected_ids = {1, 4, 5, 6, 7, 8, 9, 99, 100, *range(10, 10 + len(fa.FAULTS))}
    stderr_file = (tmp_path / "stderr.txt").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        env=env,
    )
    assert process.stdin and process.stdout
    process.stdin.write("\n".join(lines) + "\n")
    process.stdin.flush()
    # Keep stdin open until every request is answered: EOF ends the session.
    replies: dict[Any, dict[str, Any]] = {}
    stdout_lines: list[str] = []
    deadline = time.monotonic() + 90
    while not expected_ids <= set(replies) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        stdout_lines.append(line)
        message = json.loads(line)  # every stdout line is a JSON-RPC message
        assert message.get("jsonrpc") == "2.0"
        if "id" in message:
            replies[message["id"]] = message
    process.stdin.close()
    rest = process.stdout.read()
    process.wait(timeout=30)
    stderr_file.seek(0)
    stderr = stderr_file.read()
    stderr_file.close()
    for line in rest.splitlines():
        assert json.loads(line).get("jsonrpc") == "2.0"
    stdout = "".join(stdout_lines) + rest
    assert expected_ids <= set(replies)
    assert fa.API_KEY not in stdout and fa.API_KEY not in stderr
    assert "DEBUG" in stderr  # the logs went to stderr
    assert replies[1]["result"]["serverInfo"]["name"] == "vin-mcp"
    assert "error" in replies[4]
    assert len(replies[5]["result"]["tools"]) == 3
    assert replies[6]["result"]["isError"] is False
    recovering = {"429_reset", "429_retry_after", "flaky_503"}  # these succeed after a wait or retry...
    for i, fault in enumerate(fa.FAULTS):
        result = replies[10 + i]["result"]
        if fault in recovering:
            # ...but all faults run at once here, and 429_far closes the shared window for 60 s: a call
            # that needs another attempt may instead be told when to retry, without sending.
            assert result["isError"] is False or "rate limit" in result["content"][0]["text"], fault
        else:
            assert result["isError"] is (fault not in recovering), fault
    for id_ in (7, 8, 9, 99):
        assert replies[id_]["result"]["isError"] is True, replies[id_]
    # Still serving after all of that: an answer, or (the shared window again) when to retry.
    last = replies[100]["result"]
    assert last["isError"] is False or "rate limit is reached" in last["content"][0]["text"], last
