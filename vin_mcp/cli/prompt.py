"""Asking the person at the terminal the lookup's one question (a number to pick), as MCP clients do in a form.

Asked only when both stdin and stderr are terminals (the question goes to stderr; stdout keeps the answer),
never with ``--json``. Enter, end of input or three unreadable replies leave the answer as it stands. Asked
in the main thread, after the lookup's event loop has ended, so one Ctrl-C ends the command at once.
"""

from __future__ import annotations

import sys
from typing import TextIO

from vin_mcp.answers.choice import question_for, settle
from vin_mcp.answers.lookup import lookup_answer
from vin_mcp.answers.models import LookupAnswer, LookupFacts

ATTEMPTS = 3


def can_ask(stdin: TextIO, stderr: TextIO) -> bool:
    return stdin.isatty() and stderr.isatty()


def settle_at_terminal(facts: LookupFacts, stdin: TextIO = sys.stdin, stderr: TextIO = sys.stderr) -> LookupAnswer:
    """The answer, settled by the person's pick when the lookup leaves a question."""
    question = question_for(facts)
    if question is None:
        return lookup_answer(facts)
    values = question.values()
    lines = [question.message, *(f"  {n}. {label}" for n, (_, label) in enumerate(question.options, start=1))]
    print("\n".join(lines), file=stderr)
    for _ in range(ATTEMPTS):
        print(f"Type a number from 1 to {len(values)} (Enter skips): ", end="", file=stderr, flush=True)
        reply = stdin.readline().strip()
        if not reply:
            return lookup_answer(facts)
        if reply.isdigit() and 1 <= int(reply) <= len(values):
            return settle(facts, question, values[int(reply) - 1])
    return lookup_answer(facts)
