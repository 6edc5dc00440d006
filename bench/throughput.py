"""Cached lookups per second over stateless streamable HTTP, beside the bare server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
from mcp import Client

from bench.common import (
    ROOT,
    Row,
    Sizes,
    env_for,
)
from tests import fake_autograb as fa


@contextmanager
def http_process(command: list[str], env: dict[str, str], announce: str | None) -> Iterator[str]:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        if announce:
            line = process.stderr.readline()
            assert announce in line, line
            url = line.split()[3]
        else:
            url = f"http://127.0.0.1:{command[-1]}/mcp"
            for _ in range(200):
                try:
                    httpx.post(url, json={}, timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def throughput(url: str, tool: str, arguments: dict[str, Any], calls: int, workers: int) -> float:
    per_worker = calls // workers

    async def worker() -> None:
        async with Client(url) as client:
            for _ in range(per_worker):
                result = await client.call_tool(tool, arguments)
                assert not result.is_error

    async with Client(url) as client:  # warm: the first lookup fills the cache
        await client.call_tool(tool, arguments)
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)
    return per_worker * workers / (time.perf_counter() - started)


async def measure_http_throughput(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    ours_cmd = [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0", "--stateless"]
    with http_process(ours_cmd, env_for(fake), "listening on") as url:
        ours = await throughput(url, "lookup_vin", {"vin": fa.POLO}, sizes.http_calls, sizes.http_workers)
    port = str(free_port())
    with http_process([sys.executable, "-m", "bench.bare_server", "--port", port], env_for(fake), None) as url:
        bare = await throughput(url, "echo", {"text": "x" * 17}, sizes.http_calls, sizes.http_workers)
    return Row(
        f"cached lookups over streamable HTTP, stateless ({sizes.http_workers} clients, {sizes.http_calls} calls)",
        f"{ours:.0f} calls/s ({ours / bare:.2f}×)",
        f"bare echo server {bare:.0f} calls/s",
        "(no target)",
        None,
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
