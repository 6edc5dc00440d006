"""``vin-mcp lookup`` at a terminal asks the person to pick (a real pseudo-terminal); never for a script."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys

import pytest

from tests import fake_autograb as fa

CTRL_C = "^C"


def env_for(fake: fa.FakeAutoGrab) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    return {**base, "AUTOGRAB_API_KEY": fa.API_KEY, "AUTOGRAB_BASE_URL": fake.url}


def on_a_terminal(fake: fa.FakeAutoGrab, vin: str, typed: list[str], *flags: str) -> tuple[int, str, str]:
    """Runs the command with stdin and stderr on a pseudo-terminal; types each line after each prompt."""
    main, side = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "lookup", vin, *flags],
        stdin=side,
        stderr=side,
        stdout=subprocess.PIPE,
        env=env_for(fake),
    )
    os.close(side)
    seen = b""
    pending = list(typed)
    try:
        while process.poll() is None or select.select([main], [], [], 0)[0]:
            ready, _, _ = select.select([main], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
            if pending and seen.count(b"Type a number") > len(typed) - len(pending):
                reply = pending.pop(0)
                if reply == CTRL_C:
                    process.send_signal(signal.SIGINT)  # what the terminal sends on Ctrl-C
                else:
                    os.write(main, reply.encode() + b"\n")
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(main)
    return process.returncode, stdout.decode(), seen.decode(errors="replace")


def test_a_person_picks_a_candidate_by_number(fake: fa.FakeAutoGrab) -> None:
    code, stdout, terminal = on_a_terminal(fake, fa.CANDIDATES, ["2"])
    assert "Which one is it?" in terminal and "  2. 2010 Volkswagen Polo Trendline" in terminal
    assert "  4. None of these" in terminal
    assert "confirmed by the user" in stdout and "The user picked it from 3 candidate vehicles." in stdout
    assert "Trendline" in stdout and code == 0
    assert len(fake.calls(fa.CANDIDATES)) == 1


def test_a_reply_that_is_not_an_option_is_asked_again(fake: fa.FakeAutoGrab) -> None:
    code, stdout, terminal = on_a_terminal(fake, fa.REDUCED, ["9", "yes", "2"])
    assert terminal.count("Type a number from 1 to 2") == 3
    assert "UNCONFIRMED match" in stdout and "The user said it is not their vehicle." in stdout and code == 1


def test_enter_skips_the_question(fake: fa.FakeAutoGrab) -> None:
    code, stdout, _ = on_a_terminal(fake, fa.CANDIDATES, [""])
    assert "several possible vehicles" in stdout and code == 1


def test_json_never_asks(fake: fa.FakeAutoGrab) -> None:
    code, stdout, terminal = on_a_terminal(fake, fa.CANDIDATES, [], "--json")
    assert "Type a number" not in terminal
    assert json.loads(stdout)["status"] == "candidates" and code == 1


@pytest.mark.parametrize("piped", [None, "1\n"])
def test_a_script_is_never_asked(fake: fa.FakeAutoGrab, piped: str | None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "lookup", fa.CANDIDATES],
        input=piped,
        stdin=subprocess.DEVNULL if piped is None else None,
        capture_output=True,
        text=True,
        env=env_for(fake),
        timeout=60,
    )
    assert "Type a number" not in done.stderr
    assert "several possible vehicles" in done.stdout and done.returncode == 1


def test_one_ctrl_c_at_the_question_exits_130_quietly(fake: fa.FakeAutoGrab) -> None:
    code, stdout, terminal = on_a_terminal(fake, fa.CANDIDATES, [CTRL_C])
    assert code == 130 and stdout == ""
    assert "Traceback" not in terminal and "KeyboardInterrupt" not in terminal
    assert len(fake.calls(fa.CANDIDATES)) == 1
