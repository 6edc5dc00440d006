"""The official MCP conformance suite against `vin-mcp --transport http`, with a committed baseline."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import fake_autograb as fa
from tests.real_tools import CONFORMANCE, npx, tool_env

pytestmark = pytest.mark.real_clients
BASELINE = Path(__file__).parent / "conformance-expected-failures.yml"
# Scenarios that need nothing from the suite's fixtures: each must pass outright.
GENERIC = {
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-error",
    "resources-list",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
}


@contextmanager
def http_server(*options: str, **env: str) -> Iterator[str]:
    """The real `vin-mcp --transport http` process on a free port; yields its MCP endpoint URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0", *options],
        env=tool_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening on" in line, line
        yield line.split()[3]
    finally:
        process.terminate()
        process.communicate(timeout=30)


def baseline() -> set[str]:
    return set(re.findall(r"^\s+- ([\w-]+)\s*$", BASELINE.read_text(), flags=re.MULTILINE))


def test_baseline_lists_no_generic_scenario() -> None:
    assert baseline() and not baseline() & GENERIC


# Stateless mode has no sessions by design: the multiple-streams scenario warns that no session id
# was given, and the suite counts a warning as a failure.
STATELESS_ONLY = {"server-sse-multiple-streams"}


@pytest.mark.parametrize("stateless", [False, True], ids=["sessions", "stateless"])
def test_conformance_suite_matches_the_baseline(fake: fa.FakeAutoGrab, tmp_path: Path, stateless: bool) -> None:
    expected = baseline() | (STATELESS_ONLY if stateless else set())
    baseline_file = BASELINE
    if stateless:
        baseline_file = tmp_path / "stateless.yml"
        baseline_file.write_text("server:\n" + "".join(f"  - {name}\n" for name in sorted(expected)))
    options = ["--stateless"] if stateless else []
    with http_server(*options, AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url) as url:
        done = npx(CONFORMANCE, "server", "--url", url, "--expected-failures", str(baseline_file), timeout=600)
    report = done.stdout
    assert done.returncode == 0, report[-3000:] + done.stderr[-2000:]
    assert "Baseline check passed" in report
    outcomes = {name: mark for mark, name in re.findall(r"^([✓✗]) ([\w-]+):", report, flags=re.MULTILINE)}
    passed = {name for name, mark in outcomes.items() if mark == "✓"}
    # The suite itself checks the failures against the baseline, in both directions; and no generic
    # scenario may fail (a warning still shows as a tick in its summary).
    assert passed >= GENERIC, sorted(GENERIC - passed)
