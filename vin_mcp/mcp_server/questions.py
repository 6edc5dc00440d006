"""Putting a lookup's one question to the person through the client (elicitation), on both protocol eras.

Up to 2025-11-25 the server sends one ``elicitation/create`` request mid-call, when the connection can
carry one (stateless HTTP cannot). From 2026-07-28 the call ends with an ``InputRequiredResult`` whose
``requestState`` holds the answer and its choices: the SDK seals it (``VIN_MCP_REQUEST_STATE_KEY``), and
the client's retry brings it back with the reply, to this replica or another, so a reply never costs a
second paid search. Whatever goes wrong with a question, the answer as it stands is given instead.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import AfterValidator, BaseModel, Field, ValidationError, create_model

from vin_mcp.answers.choice import Question, question_for, settle
from vin_mcp.answers.lookup import lookup_answer
from vin_mcp.answers.models import LookupAnswer, LookupFacts

logger = logging.getLogger(__name__)

# The first protocol revision that carries a question in the tool's result instead of a mid-call request.
INPUT_REQUIRED_VERSION = "2026-07-28"
STATE_VERSION = 2  # 2: the facts a lookup found (answers.lookup), any kind of search
ELICIT_KEY = "vehicle"
# A sealed state rides every retry: a larger answer is given as it stands rather than asked about.
MAX_STATE_CHARS = 64 * 1024


class _State(BaseModel):
    v: int
    facts: LookupFacts


def choice_model(question: Question) -> type[BaseModel]:
    """The form: one titled single choice (``oneOf`` of ``const``/``title``), every option labelled."""
    allowed = question.values()

    def one_of(schema: dict[str, Any]) -> None:
        schema["oneOf"] = [{"const": value, "title": label} for value, label in question.options]

    def listed(value: str) -> str:
        if value not in allowed:
            raise ValueError("not one of the options")
        return value

    field = (Annotated[str, AfterValidator(listed)], Field(title=question.title, json_schema_extra=one_of))
    model: type[BaseModel] = create_model("VehicleQuestion", choice=field)  # type: ignore[arg-type]
    return model


def can_ask(ctx: Context[Any, Any]) -> bool:
    """The client declared form elicitation (a bare ``elicitation: {}`` is form support; url-only is not)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


async def ask(ctx: Context[Any, Any], facts: LookupFacts) -> LookupAnswer | InputRequiredResult:
    """The answer, settled by the person when the lookup leaves a question and the client can put it."""
    answer = lookup_answer(facts)
    question = question_for(facts, answer)
    if question is None or not can_ask(ctx):
        return answer
    model = choice_model(question)
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        state = _State(v=STATE_VERSION, facts=facts).model_dump_json(exclude_defaults=True)
        if len(state) > MAX_STATE_CHARS:
            return answer
        params = ElicitRequestFormParams(message=question.message, requested_schema=render_elicitation_schema(model))
        # Never the plate above DEBUG: in the UK it is personal data.
        logger.info("lookup: asking the user to %s (a %s search)", question.kind, facts.search.noun())
        return InputRequiredResult(input_requests={ELICIT_KEY: ElicitRequest(params=params)}, request_state=state)
    if not ctx.request_context.session.can_send_request:
        return answer
    try:
        outcome: ElicitationResult[Any] = await ctx.elicit(question.message, model)
    except Exception as exc:  # a client that fails the question still gets the answer
        logger.info("lookup: the question could not be put (%s); answering as it stands", type(exc).__name__)
        return answer
    if not isinstance(outcome, AcceptedElicitation):
        logger.info("lookup: the user left the question (%s)", outcome.action)
        return answer
    return _settled(facts, question, outcome.data)


async def from_reply(ctx: Context[Any, Any]) -> LookupAnswer | None:
    """On a retry that carries our state (2026-07-28): the answer the person's reply makes; None when the state
    is not one this version wrote (a rolling upgrade), and the lookup is then answered afresh."""
    assert ctx.request_state is not None
    try:
        state = _State.model_validate_json(ctx.request_state)
    except ValidationError:
        return None
    if state.v != STATE_VERSION:
        return None
    facts = state.facts
    question = question_for(facts)
    reply = (ctx.input_responses or {}).get(ELICIT_KEY)
    if question is None or not isinstance(reply, ElicitResult) or reply.action != "accept" or reply.content is None:
        logger.info("lookup: no choice in the reply (%s)", getattr(reply, "action", "none"))
        return lookup_answer(facts)
    try:
        choice = choice_model(question).model_validate(reply.content)
    except ValidationError:
        return lookup_answer(facts)
    return _settled(facts, question, choice)


def _settled(facts: LookupFacts, question: Question, choice: BaseModel) -> LookupAnswer:
    value = str(getattr(choice, "choice"))  # noqa: B009 - a field of a model made at run time
    logger.info("lookup: the user answered %r to the %s question", value, question.kind)
    return settle(facts, question, value)
