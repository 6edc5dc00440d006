"""``vin-mcp batch`` over 1,000 rows against the fake: rows per second and what was paid, beside the same rows
looked up one ``vin-mcp lookup`` at a time (measured on a sample, in the same run)."""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, Sizes, env_for
from tests import fake_autograb as fa

ROWS = 1_000
DISTINCT = 200
SAMPLE = 10


def measure_batch(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    rows = ROWS if sizes.calls >= 100 else 200
    vins = [fa.eu_vin(40_000 + n) for n in range(DISTINCT)]
    for vin in vins:
        fake.script("search", vin, fa.Reply(body=fa.match_body(vin, fa.vehicle())))
    env = env_for(fake)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.csv"
        with source.open("w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([["vin"], *([vins[n % DISTINCT]] for n in range(rows))])
        fake.reset_calls()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vin_mcp", "batch", str(source), "-o", str(Path(folder) / "out.csv")],
            env=env,
            check=True,
            capture_output=True,
        )
        took = time.perf_counter() - started
    paid = len(fake.calls())
    one_by_one = []
    for vin in vins[:SAMPLE]:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vin_mcp", "lookup", vin], env=env, capture_output=True)
        one_by_one.append(time.perf_counter() - started)
    per_row = sum(one_by_one) / len(one_by_one)
    distinct = min(rows, DISTINCT)
    return Row(
        f"vin-mcp batch, {rows} rows ({distinct} distinct VINs) against the fake",
        f"{rows / took:.0f} rows/s; {paid} paid calls ({paid / distinct:.2f} per distinct VIN)",
        f"one vin-mcp lookup per row: {1 / per_row:.1f} rows/s, {rows} paid calls",
        "1 paid call per distinct VIN",
        paid == distinct,
    )
