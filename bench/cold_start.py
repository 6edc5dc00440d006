"""Cold start: seconds from launch to the answer to initialize, beside the bare server."""

from __future__ import annotations

import compileall
import subprocess
import sys
import time

from bench.common import (
    INITIALIZE,
    ROOT,
    Row,
    Sizes,
    env_for,
    median,
)
from tests import fake_autograb as fa


def time_to_initialize(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(INITIALIZE)
    process.stdin.flush()
    answer = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.wait(timeout=30)
    assert b'"result"' in answer, answer
    return elapsed


# vin-mcp's own share of a start, timed inside one process once the SDK is imported as the bare server imports
# it: steadier than the difference of two whole starts, which this VM's noise moves by several per cent.
OWN_WORK = """
import time
from mcp.server.mcpserver import MCPServer
started = time.perf_counter()
import vin_mcp.cli.main
from vin_mcp.mcp_server.server import create_server
from vin_mcp.mcp_server.stdio_transport import serve_stdio
from vin_mcp.settings import Settings
create_server(Settings.from_env())
print(time.perf_counter() - started)
"""


def own_work(env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", OWN_WORK], capture_output=True, text=True, env=env, cwd=ROOT, check=True, timeout=60
    )
    return float(done.stdout)


def measure_cold_start(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    ours_cmd, bare_cmd = [sys.executable, "-m", "vin_mcp"], [sys.executable, "-m", "bench.bare_server"]
    env = env_for(fake)
    # Both start from compiled bytecode, as an installed package does: where PYTHONDONTWRITEBYTECODE is set (as on
    # this VM), a source file edited since its .pyc was written is compiled again at every start.
    for package in ("vin_mcp", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)
    time_to_initialize(ours_cmd, env)  # warm the file cache for both
    time_to_initialize(bare_cmd, env)
    ours, bare = [], []
    # Interleaved, so drift affects both alike, and each goes first in every other pair: the first start of a
    # pair measures a few per cent quicker than the second (seen both ways round on the 2-core VM).
    for round_ in range(sizes.cold_starts):
        if round_ % 2 == 0:
            ours.append(time_to_initialize(ours_cmd, env))
            bare.append(time_to_initialize(bare_cmd, env))
        else:
            bare.append(time_to_initialize(bare_cmd, env))
            ours.append(time_to_initialize(ours_cmd, env))
    own = median([own_work(env) for _ in range(max(3, sizes.cold_starts // 5))])
    ratio = median(ours) / median(bare)
    # The same ratio within three runs of five starts each: how far one run of the day can sit from another.
    runs = [median(ours[i : i + 5]) / median(bare[i : i + 5]) for i in range(0, len(ours) - 4, 5)] or [ratio]
    return Row(
        f"cold start to initialize answer, stdio (median of {sizes.cold_starts} interleaved runs)",
        f"{median(ours) * 1000:.0f} ms ({ratio:.2f}×; runs of five: {min(runs):.2f}–{max(runs):.2f}×); vin-mcp's own "
        f"work, timed in-process after the SDK's import: {own * 1000:.0f} ms ({own / median(bare):.1%} of the bare "
        "start)",
        f"bare echo server {median(bare) * 1000:.0f} ms",
        "≤ 1.05×",
        ratio <= 1.05,
        timed=True,
    )
