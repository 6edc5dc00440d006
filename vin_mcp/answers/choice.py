"""Letting the person settle a doubtful lookup: the one question to put, and the answer their reply makes. No I/O.

The MCP tool asks through the client (elicitation) and the command line at the terminal; both use these. The
answer a reply makes is shaped where every lookup answer is (``lookup.lookup_answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vin_mcp.answers.lookup import Reply, lookup_answer
from vin_mcp.answers.models import LookupAnswer, LookupFacts
from vin_mcp.answers.render import candidate_line
from vin_mcp.answers.wording import (
    CONFIRM_NO,
    CONFIRM_TITLE,
    CONFIRM_YES,
    NONE_OF_THESE,
    PICK_TITLE,
    confirm_question,
    pick_question,
)

NONE = "none"
YES = "yes"
NO = "no"


@dataclass(frozen=True)
class Question:
    kind: Literal["pick", "confirm"]
    title: str
    message: str
    # (value, label), in the order shown: candidates best first, then "none of these"; or yes, then no.
    options: tuple[tuple[str, str], ...]

    def values(self) -> list[str]:
        return [value for value, _ in self.options]


def question_for(facts: LookupFacts, answer: LookupAnswer | None = None) -> Question | None:
    """The question this lookup leaves for the person, or None when there is nothing to settle. ``answer``: the
    facts' answer, when the caller has already shaped it."""
    answer = answer or lookup_answer(facts)
    registry = answer.registry_description_unverified
    searched = facts.search.label()
    if answer.status == "candidates" and answer.candidates:
        # Labels a person reads in a form: the vehicle as it is, without quotation marks.
        picks = [(str(n), line) for n, line in enumerate(answer.candidates, start=1)]
        return Question("pick", PICK_TITLE, pick_question(searched, registry), (*picks, (NONE, NONE_OF_THESE)))
    match = answer.match
    if match is not None and answer.status in ("matched", "unconfirmed") and answer.confidence.level != "high":
        message = confirm_question(searched, candidate_line(match), registry)
        return Question("confirm", CONFIRM_TITLE, message, ((YES, CONFIRM_YES), (NO, CONFIRM_NO)))
    return None


def settle(facts: LookupFacts, question: Question, value: str) -> LookupAnswer:
    """The answer after the person replied ``value`` (one of ``question``'s option values)."""
    if value not in question.values():
        raise ValueError(f"{value!r} is not one of the question's options")
    return lookup_answer(facts, Reply(question.kind, value))
