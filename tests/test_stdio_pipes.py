"""stdin and stdout as non-blocking pipes on the event loop (mcp_server/stdio_pipes.py), and the SDK's way for
everything else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import pytest

from vin_mcp.mcp_server.stdio_pipes import PipeLines, PipeWriter

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}


def _writer_thread(fd: int, chunks: list[bytes]) -> threading.Thread:
    def write() -> None:
        for chunk in chunks:
            os.write(fd, chunk)
        os.close(fd)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


@pytest.mark.anyio
async def test_lines_are_whole_across_chunks_and_characters_split_between_reads() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    snowman = "☃".encode()
    chunks = [b'{"a":', b'1}\n{"b":"' + snowman[:1], snowman[1:] + b'"}\n\n', b"last line without newline"]
    thread = _writer_thread(write_end, chunks)
    with anyio.fail_after(10):
        lines = [line async for line in PipeLines(read_end)]
    thread.join()
    os.close(read_end)
    assert lines == ['{"a":1}\n', '{"b":"☃"}\n', "\n", "last line without newline"]


@pytest.mark.anyio
async def test_invalid_utf8_is_replaced_not_fatal() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    thread = _writer_thread(write_end, [b'{"x":"\xff"}\n'])
    with anyio.fail_after(10):
        lines = [line async for line in PipeLines(read_end)]
    thread.join()
    os.close(read_end)
    assert lines == ['{"x":"\ufffd"}\n']


@pytest.mark.anyio
async def test_a_write_larger_than_the_pipe_waits_for_the_reader_and_arrives_whole() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    message = "x" * (1 << 20) + "\n"  # a pipe holds 64 KiB: the writer must wait on the loop, many times
    received = bytearray()

    def read() -> None:
        while chunk := os.read(read_end, 4096):
            received.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    with anyio.fail_after(30):
        await PipeWriter(write_end).write(message)
    os.close(write_end)
    reader.join()
    os.close(read_end)
    assert received == message.encode()


def _request_lines() -> list[bytes]:
    tools_list = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    return [json.dumps(message).encode() + b"\n" for message in (INITIALIZE, tools_list)]


def _converse(command: list[str]) -> tuple[list[dict[str, object]], bytes]:
    """Each request written once the answer before it is read, stdin closed last (as a host does)."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    answers = []
    for line in _request_lines():
        process.stdin.write(line)
        process.stdin.flush()
        answers.append(json.loads(process.stdout.readline()))
    _, stderr = process.communicate(timeout=60)
    return answers, stderr


def test_the_server_answers_over_pipes_and_a_stray_print_misses_the_wire() -> None:
    code = (
        "import runpy, sys\n"
        "import vin_mcp.mcp_server.stdio_transport as transport\n"
        "real = transport.pipe_streams\n"
        "class Noisy:\n"
        "    def __enter__(self):\n"
        "        self.inner = real()\n"
        "        pipes = self.inner.__enter__()\n"
        "        print('stray output', flush=True)\n"
        "        return pipes\n"
        "    def __exit__(self, *exc):\n"
        "        return self.inner.__exit__(*exc)\n"
        "transport.pipe_streams = Noisy\n"
        "sys.argv = ['vin-mcp']\n"
        "runpy.run_module('vin_mcp', run_name='__main__')\n"
    )
    answers, stderr = _converse([sys.executable, "-c", code])
    assert [answer["id"] for answer in answers] == [1, 2]
    assert b"stray output" in stderr


def test_stdin_from_a_file_is_served_the_sdks_way(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(_request_lines()[0])  # one request: at the file's end the server stops
    with requests.open("rb") as stdin:
        run = subprocess.run(
            [sys.executable, "-m", "vin_mcp"], stdin=stdin, capture_output=True, timeout=60, check=False
        )
    [answer] = [json.loads(line) for line in run.stdout.splitlines()]
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"], run.stderr.decode()[-2000:]


@pytest.mark.parametrize("ending", ["eof", "sigterm"])
def test_the_pipes_are_blocking_again_however_the_server_ends(ending: str) -> None:
    """The non-blocking flag belongs to the pipe, which a shell that started the server may still hold."""
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp"], stdin=stdin_read, stdout=stdout_write, stderr=subprocess.DEVNULL
    )
    try:
        os.write(stdin_write, _request_lines()[0])
        with os.fdopen(os.dup(stdout_read), "rb") as answers:
            assert json.loads(answers.readline())["id"] == 1
        # The server holds the same pipes (the same open descriptions) as these ends.
        assert not os.get_blocking(stdin_read) and not os.get_blocking(stdout_write)
        if ending == "sigterm":
            process.send_signal(signal.SIGTERM)
        else:
            os.close(stdin_write)
        assert process.wait(timeout=30) == 0
        assert os.get_blocking(stdin_read) and os.get_blocking(stdout_write)
    finally:
        process.kill()
        for fd in (stdin_read, stdout_read, stdout_write, *([stdin_write] if ending == "sigterm" else [])):
            os.close(fd)
