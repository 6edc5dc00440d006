"""Letting the person settle a doubtful lookup: the one question to put, and the answer their reply makes. No I/O.

The MCP tool asks through the client (elicitation) and the command line at the terminal; both use these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vin_mcp.answers import confidence
from vin_mcp.answers.assess import record_disagreements
from vin_mcp.answers.models import Confidence, LookupAnswer, LookupFacts, Vehicle, VinFacts
from vin_mcp.answers.render import candidate_line
from vin_mcp.answers.wording import (
    CONFIRM_NO,
    CONFIRM_TITLE,
    CONFIRM_YES,
    NONE_OF_THESE,
    NOTED_ADVICE,
    PICK_TITLE,
    WRITE_OFF_ADVICE,
    advice,
    confirm_question,
    finding_sentence,
    pick_question,
    quote,
)
from vin_mcp.vin.rules import decode_vin

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


def question_for(facts: LookupFacts) -> Question | None:
    """The question this lookup leaves for the person, or None when there is nothing to settle."""
    answer = facts.answer
    registry = answer.registry_description_unverified
    if answer.status == "candidates" and answer.candidates and len(facts.candidate_vehicles) == len(answer.candidates):
        picks = [(str(n), quote(line)) for n, line in enumerate(answer.candidates, start=1)]
        return Question("pick", PICK_TITLE, pick_question(answer.vin, registry), (*picks, (NONE, NONE_OF_THESE)))
    match = answer.match
    if match is not None and answer.status in ("matched", "unconfirmed") and answer.confidence.level != "high":
        message = confirm_question(answer.vin, candidate_line(match), registry)
        return Question("confirm", CONFIRM_TITLE, message, ((YES, CONFIRM_YES), (NO, CONFIRM_NO)))
    return None


def settle(facts: LookupFacts, question: Question, value: str) -> LookupAnswer:
    """The answer after the person replied ``value`` (one of ``question``'s option values)."""
    if value not in question.values():
        raise ValueError(f"{value!r} is not one of the question's options")
    answer = facts.answer
    if question.kind == "pick":
        if value == NONE:
            return _none_fit(answer)
        return _confirmed(answer, facts.candidate_vehicles[int(value) - 1], picked_from=len(answer.candidates))
    if value == YES and answer.match is not None:
        return _confirmed(answer, answer.match, picked_from=None)
    return _rejected(answer)


def _confirmed(answer: LookupAnswer, vehicle: Vehicle, *, picked_from: int | None) -> LookupAnswer:
    decode = decode_vin(answer.vin)
    assessment = confidence.user_checked(
        picked_from=picked_from,
        check_digit=decode.check_digit,
        expected_check_digit=decode.expected_check_digit,
        wmi=decode.wmi,
        vin_maker=decode.manufacturer,
        make=vehicle.make,
        vin_years=decode.model_years,
        year=vehicle.year,
    )
    disagrees = record_disagreements(answer.registration_record, vehicle, answer.colour)
    said = _with_write_off(advice(assessment), answer)
    settled = _confidence(answer, assessment, f"{said} {NOTED_ADVICE}" if disagrees else said)
    if picked_from:  # AutoGrab's rating was of its own match, not of the vehicle the person picked
        settled.autograb = None
    return answer.model_copy(
        update={
            "status": "user_confirmed",
            "vehicle": vehicle,
            "unconfirmed_vehicle": None,
            "candidates": [],
            "confidence": settled,
            "registration_record_disagrees": disagrees,
            "vin_decode": None if assessment.level == "high" else VinFacts.from_decode(decode),
        }
    )


def _none_fit(answer: LookupAnswer) -> LookupAnswer:
    assessment = confidence.none_fit(len(answer.candidates))
    settled = _confidence(answer, assessment, _with_write_off(advice(assessment), answer))
    settled.autograb = None  # its rating was of a vehicle the person turned down
    return answer.model_copy(
        update={
            "status": "no_match",
            "candidates": [],
            "confidence": settled,
            "registration_record_disagrees": [],
        }
    )


def _rejected(answer: LookupAnswer) -> LookupAnswer:
    assessment = confidence.REJECTED
    said = _with_write_off(advice(assessment), answer)
    rejected = _confidence(answer, assessment, said)
    rejected.reasons += answer.confidence.reasons  # why it was doubtful in the first place
    return answer.model_copy(
        update={"status": "unconfirmed", "vehicle": None, "unconfirmed_vehicle": answer.match, "confidence": rejected}
    )


def _confidence(answer: LookupAnswer, assessment: confidence.Assessment, said: str) -> Confidence:
    return Confidence(
        level=assessment.level,
        autograb=answer.confidence.autograb,
        reasons=[finding_sentence(finding) for finding in assessment.findings],
        advice=said,
    )


def _with_write_off(said: str, answer: LookupAnswer) -> str:
    return f"{said} {WRITE_OFF_ADVICE}" if answer.write_off and answer.write_off.incidents else said
