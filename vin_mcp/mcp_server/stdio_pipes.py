"""stdin and stdout as non-blocking pipes on the event loop, for the SDK's stdio transport.

The SDK reads stdin and writes stdout through worker threads (``anyio.wrap_file``): three thread hops per message,
about a third of a millisecond per call on a small machine. When both are pipes or sockets, as an MCP host starts
a server, they are read and written here on the event loop instead. Anything else (a terminal, a file, Windows)
keeps the SDK's way.

Like the SDK, the wire moves to private descriptors while serving: fd 0 reads the null device and fd 1 writes to
stderr, so a stray ``print`` or a child process cannot put bytes between protocol messages. Both are restored on
the way out.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator

import anyio

if sys.platform != "win32":
    import fcntl

READ_SIZE = 65536


class PipeLines:
    """Lines of UTF-8 text from a non-blocking descriptor (the SDK's reader iterates over them)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()
        self._scanned = 0  # no newline before this offset

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                self._scanned = 0
                # A newline byte is never part of a multi-byte UTF-8 character, so a line always decodes whole.
                return line.decode("utf-8", errors="replace")
            self._scanned = len(self._buffer)
            try:
                chunk = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                await anyio.wait_readable(self._fd)
                continue
            if not chunk:
                if self._buffer:  # the last line, without its newline
                    rest = bytes(self._buffer)
                    self._buffer.clear()
                    return rest.decode("utf-8", errors="replace")
                raise StopAsyncIteration
            self._buffer += chunk


class PipeWriter:
    """Writes text whole to a non-blocking descriptor, waiting on the loop while the pipe is full."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    async def write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        while data:
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:
                await anyio.wait_writable(self._fd)
                continue
            data = data[written:]

    async def flush(self) -> None:
        """Nothing is buffered here: every write reached the pipe."""


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


# The wire's descriptors while they are non-blocking: that flag belongs to the pipe, shared with whoever else holds
# it (a shell that started the server), so it is put back on every way out, os._exit included.
_NON_BLOCKING: list[int] = []


def restore_blocking() -> None:
    """Put the wire's pipes back in blocking mode (idempotent)."""
    while _NON_BLOCKING:
        with contextlib.suppress(OSError):
            os.set_blocking(_NON_BLOCKING.pop(), True)


@contextlib.contextmanager
def pipe_streams() -> Iterator[tuple[PipeLines, PipeWriter] | None]:
    """The wire as (lines in, writer out) while the block runs; None where the SDK's threads must serve it."""
    if sys.platform == "win32" or not (_is_pipe(0) and _is_pipe(1)):
        yield None
        return
    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        sys.stdout.flush()
        os.dup2(null, 0)
        os.dup2(2, 1)
        for wire in (wire_in, wire_out):
            os.set_blocking(wire, False)
            _NON_BLOCKING.append(wire)
        yield PipeLines(wire_in), PipeWriter(wire_out)
    finally:
        os.close(null)
        restore_blocking()
        for fd, wire in ((0, wire_in), (1, wire_out)):
            with contextlib.suppress(OSError):
                os.dup2(wire, fd)
            os.close(wire)
