"""``vin-mcp batch`` (issue 23): 1,000 rows against the fake, every distinct vehicle paid for once, failures kept to
their rows, a 429 mid-run waited out, Ctrl-C and a resume that bills nothing already answered."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import fake_autograb as fa
from tests.test_operator import clean_env

MATCHES = [fa.eu_vin(20_000 + n) for n in range(150)]
MISSES = [fa.eu_vin(21_000 + n) for n in range(30)]
FAILING = [fa.eu_vin(22_000 + n) for n in range(20)]
LIMITED = fa.eu_vin(23_000)


def script(fake: fa.FakeAutoGrab) -> None:
    for vin in MATCHES:
        fake.script("search", vin, fa.Reply(body=fa.match_body(vin, fa.vehicle())))
    for vin in FAILING:
        fake.script("search", vin, fa.Reply(status=503, body=b"down", content_type="text/plain"))
    ok = fa.Reply(body=fa.match_body(LIMITED, fa.vehicle()))
    fake.script("search", LIMITED, fa.Reply(status=429, headers={"Retry-After": "1"}), ok)


def spreadsheet(path: Path) -> list[list[str]]:
    """1,000 rows: every VIN five times (in a scattered order), a few plates, a blank and a bad row."""
    vins = [*MATCHES, *MISSES, *FAILING]
    rows = [["Customer", "VIN number", "Rego", "State", "Note"]]
    for n in range(980):
        vin = vins[(n * 7) % len(vins)]
        rows.append([f"c{n}", vin.lower() if n % 3 == 0 else vin, "", "", '=HYPERLINK("x")' if n == 5 else "ok"])
    rows += [[f"p{n}", "", "REG4 SUCCESS", "vic", "plate"] for n in range(15)]
    rows += [["limited", LIMITED, "", "", "429"], ["blank", "", "", "", ""], ["bad", "NOTAVIN", "", "", ""]]
    rows += [["limited2", LIMITED, "", "", "429"], ["p-nsw", "", "REG4SUCCESS", "NSW", ""]]
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return rows


def run(fake: fa.FakeAutoGrab, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url)
    return subprocess.run(
        [sys.executable, "-m", "vin_mcp", "batch", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def test_a_thousand_rows_cost_one_call_per_distinct_vehicle(fake: fa.FakeAutoGrab, tmp_path: Path) -> None:
    script(fake)
    rows = spreadsheet(tmp_path / "in.csv")
    done = run(fake, str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    out = read(tmp_path / "out.csv")
    assert done.returncode == 4, done.stderr  # some rows failed (AutoGrab 503)
    assert len(out) == len(rows) - 1 and [r["Customer"] for r in out] == [r[0] for r in rows[1:]]
    by = {r["Customer"]: r for r in out}
    assert by["c0"]["status"] == "matched" and by["c0"]["make"] == "Volkswagen"
    assert {r["status"] for r in out if r["VIN number"].upper() in MISSES} == {"no_match"}
    failed = [r for r in out if r["VIN number"].upper() in FAILING]
    assert failed and all(r["status"] == "error" and "not a 'no match'" in r["error"] for r in failed)
    assert by["limited"]["status"] == "matched" and by["limited2"]["status"] == "matched"  # the 429 waited out
    assert by["p0"]["status"] == "matched" and by["p0"]["vin_found"] == fa.RICH
    assert by["bad"]["status"] == "skipped" and "not a valid VIN" in by["bad"]["error"]
    assert by["blank"]["status"] == "skipped"
    assert by["c5"]["Note"] == '\'=HYPERLINK("x")'  # a formula would run in a spreadsheet: neutralised
    # Paid: each distinct VIN once (failures retried twice by the client), the plate per state, the 429 twice.
    calls = len(fake.calls())
    assert calls == len(MATCHES) + len(MISSES) + 3 * len(FAILING) + 2 + 2


def test_a_rerun_resumes_and_bills_only_what_failed(fake: fa.FakeAutoGrab, tmp_path: Path) -> None:
    script(fake)
    spreadsheet(tmp_path / "in.csv")
    run(fake, str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    first = len(fake.calls())
    for vin in FAILING:  # AutoGrab is back
        fake.script("search", vin, fa.Reply(body=fa.match_body(vin, fa.vehicle())))
    again = run(fake, str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    assert again.returncode == 2  # only the rows with no VIN or plate are left to fix
    assert len(fake.calls()) - first == len(FAILING)
    assert {r["status"] for r in read(tmp_path / "out.csv") if r["VIN number"].upper() in FAILING} == {"matched"}


def test_ctrl_c_keeps_what_was_answered_and_a_resume_finishes(fake: fa.FakeAutoGrab, tmp_path: Path) -> None:
    script(fake)
    fake.latency = 0.05
    spreadsheet(tmp_path / "in.csv")
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url)
    command = [sys.executable, "-m", "vin_mcp", "batch", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(fake.calls()) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    interrupted = read(tmp_path / "out.csv")
    assert process.returncode == 130 and "Traceback" not in stderr
    assert len(interrupted) == 1_000 and {r["status"] for r in interrupted} >= {"matched", "not done"}
    answered = sum(r["status"] == "matched" for r in interrupted)
    fake.latency = 0.0
    run(fake, str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    finished = read(tmp_path / "out.csv")
    assert "not done" not in {r["status"] for r in finished}
    distinct = len(MATCHES) + len(MISSES) + 3 * len(FAILING) + 2 + 2
    # Nothing answered before Ctrl-C was asked again; at most the few in flight at that moment were.
    assert len(fake.calls()) <= distinct + 3 * len(FAILING) + 4
    assert answered > 0


def test_json_lines_and_standard_streams(fake: fa.FakeAutoGrab, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("vin,tag\n" + fa.RICH + ",desk-1\n", encoding="utf-8")
    done = run(fake, str(tmp_path / "in.csv"), "-o", "-", "--json", "--reference-column", "tag")
    (line,) = [json.loads(text) for text in done.stdout.splitlines()]
    assert line["row"] == 1 and line["answer"]["status"] == "matched" and done.returncode == 0
    assert fake.calls(fa.RICH)[0].query["reference_id"] == "desk-1"


@pytest.mark.parametrize(
    ("csv_text", "says"),
    [("name,colour\nx,red\n", "no VIN or plate column found"), ("vin\n" + fa.RICH + "\n", None)],
)
def test_columns_are_found_by_header_or_refused_in_one_line(
    fake: fa.FakeAutoGrab, tmp_path: Path, csv_text: str, says: str | None
) -> None:
    (tmp_path / "in.csv").write_text(csv_text, encoding="utf-8")
    done = run(fake, str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    if says:
        assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    else:
        assert done.returncode == 0 and read(tmp_path / "out.csv")[0]["status"] == "matched"
