"""A thin MCP client: JSON-RPC lines written to a server's stdin and read from its stdout, nothing else.

It shows what crosses the wire byte for byte (the SDK's client re-serialises through its own models, and
in memory adds draft-protocol fields), and it times a call without the SDK client's own overhead.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from bench.common import ROOT

PROTOCOL = "2025-06-18"


class Pipe:
    """One server process, spoken to line by line, one request at a time."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
        )
        self._id = 0
        self.request(
            "initialize",
            {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "pipe", "version": "1"}},
        )
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        self.process.stdin.flush()

    def raw(self, method: str, params: dict[str, Any] | None = None) -> bytes:
        """The answer's line exactly as the server wrote it."""
        assert self.process.stdout is not None
        self._id += 1
        self._send({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or {}})
        while True:
            line = self.process.stdout.readline()
            assert line, "the server closed stdout"
            if b'"id":' in line and json.loads(line).get("id") == self._id:
                return line

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = json.loads(self.raw(method, params))
        assert "result" in answer, answer
        result: dict[str, Any] = answer["result"]
        return result

    def timed_call(self, tool: str, arguments: dict[str, Any]) -> float:
        started = time.perf_counter()
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        elapsed = time.perf_counter() - started
        assert not result.get("isError"), result
        return elapsed

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Pipe:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
