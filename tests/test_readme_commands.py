"""The README's command-line examples, run as written (from the clone, with the `.venv` its first commands make)
against the fake: a newcomer who copies them gets answers, not "command not found"."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests import fake_autograb as fa
from tests.test_operator import clean_env

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Lines that serve until stopped, or need a file of the reader's own: run elsewhere in the tests.
ELSEWHERE = ("--transport http", "batch ", "tests.fake_autograb", "tests.oauth_issuer", "inspector")


def commands() -> list[str]:
    found = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith(".venv/bin/") and not any(skip in command for skip in ELSEWHERE):
                found.append(command)
    return found


def test_the_readme_shows_commands_that_run_from_the_clone() -> None:
    listed = commands()
    assert len(listed) >= 7 and all(command.startswith(".venv/bin/vin-mcp") for command in listed)
    assert not re.search(r"(?m)^vin-mcp (lookup|plate|build-data|decode|batch)", README)  # never a bare vin-mcp


@pytest.mark.parametrize("command", commands())
def test_each_readme_command_runs_as_written(fake: fa.FakeAutoGrab, command: str) -> None:
    executable = ROOT / ".venv" / "bin" / "vin-mcp"
    if not executable.exists():
        pytest.skip("the README's first command has not been run in this clone")
    args = shlex.split(command)
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url)
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1, 3), (command, done.stdout, done.stderr)  # an answer, sure or not
    assert done.stdout.strip() and "Traceback" not in done.stderr
