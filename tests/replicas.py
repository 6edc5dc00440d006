"""HTTP replicas of vin-mcp as separate processes (stateless, against the fake), for tests that need several."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from mcp import Client
from mcp.client.session import ElicitationFnT
from mcp.client.streamable_http import streamable_http_client

from tests import fake_autograb as fa


class Replica:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process, self.url = process, url
        self.log = ""  # what it wrote on stderr after the first line, once it has stopped

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        self.process.kill()
        self.process.wait(10)


@contextmanager
def replica(fake: fa.FakeAutoGrab, **env: str) -> Iterator[Replica]:
    """``vin-mcp --transport http --stateless`` on a free loopback port; stops it with SIGTERM."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0"],
        env={
            **base,
            "AUTOGRAB_API_KEY": fake.api_key,
            "AUTOGRAB_BASE_URL": fake.url,
            "VIN_MCP_HTTP_STATELESS": "true",
            **env,
        },
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("vin-mcp: listening on "), line
        running = Replica(process, line.split()[3])
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
        if "running" in locals():
            running.log = log


def http_client(url: str, elicitation_callback: ElicitationFnT | None = None) -> Client:
    return Client(
        streamable_http_client(url, http_client=httpx2.AsyncClient(timeout=60)),
        elicitation_callback=elicitation_callback,
    )
