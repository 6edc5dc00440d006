"""The MCP tool adapters: arguments in, short text plus structured answer out, errors as ToolError.

No ``from __future__ import annotations`` here: the SDK reads these signatures at runtime. The answers layer is
loaded by the first call, not while the server starts (each answer model is named by its published schema).
"""

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field

from vin_mcp.answers.limits import DEFAULT_BUILD_CODES_LIMIT, MAX_BUILD_CODES_LIMIT
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.errors import ConfigurationError, UpstreamError, VinMcpError
from vin_mcp.mcp_server.card import APP_ONLY_META, CARD_META
from vin_mcp.service import REGION_PATTERN, VinService
from vin_mcp.vin.identifiers import AU_STATES, PlateSearch, Search, VinSearch, search_for

if TYPE_CHECKING:
    from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer, LookupFacts

logger = logging.getLogger(__name__)
# The lifespan (server.create_server) yields the VinService; the request type is not used.
VinContext = Context[VinService, Any]
T = TypeVar("T")

LOOKUP_DESCRIPTION = (
    "Identify a vehicle by VIN (spaces, dashes fine): specs, colour, write-offs, possible option packs. "
    "Billed. Only a match of high confidence is the vehicle; else follow the advice."
)
PLATE_DESCRIPTION = "Identify a vehicle by number plate: as lookup_vin, plus its VIN. Billed."
BUILD_DATA_DESCRIPTION = (
    "Factory build date and fitted option codes for a VIN built 1999 on (EU/US makes). Pages reuse one "
    "billed answer; search: code or text part, any case (none: not fitted)."
)

# Lengths are checked by the service, which says in one line what is wrong (and stops reading long input early).
Vin = str
Plate = str
State = Annotated[str | None, Field(description="Required in AU: " + " ".join(AU_STATES))]
# Published as exactly what the service accepts: the three codes in any letter case; null or "" for the
# server's AUTOGRAB_REGION. The service checks it and says what is wrong in one line.
RegionArg = Annotated[
    str | None, Field(description="Where registered; omit: default", json_schema_extra={"pattern": REGION_PATTERN})
]
Extended = Annotated[bool, Field(description="Add the registry's own record.")]
MoreResults = Annotated[bool, Field(description="List candidates when ambiguous.")]
# The plate tool's arguments mean what lookup_vin's do ("as lookup_vin"): not described twice, in tokens paid in
# every conversation.
SameRegion = Annotated[str | None, Field(json_schema_extra={"pattern": REGION_PATTERN})]

# Published as their bare type (object, array): their full shapes would cost every conversation tokens that
# no model reads (clients do not send output schemas to the model). Their shapes are the models in answers/.
LOOSE_OUTPUT_PROPERTIES = frozenset(
    {
        "vehicle",
        "unconfirmed_vehicle",
        "vin_decode",
        "write_off",
        "registration_record",
        "registration_record_disagrees",
        "candidates",
        "reasons",
        "codes",
    }
)
# Regenerate after changing an answer model: VIN_MCP_UPDATE_GOLDEN=1 python -m pytest tests/test_schema.py
OUTPUT_SCHEMAS = Path(__file__).with_name("output_schemas.json")
# Destructive and idempotent hints mean nothing for a read-only tool (MCP spec), so they are not sent.
READ_ONLY_REMOTE = ToolAnnotations(read_only_hint=True, open_world_hint=True)


async def lookup_vin(
    vin: Vin,
    ctx: VinContext,
    region: RegionArg = None,
    include_extended_data: Extended = False,
    prefer_more_results: MoreResults = False,
) -> CallToolResult | InputRequiredResult:
    return await _lookup(
        "lookup_vin", ctx, lambda _: VinSearch.parse(vin), region, include_extended_data, prefer_more_results
    )


async def lookup_registration(
    plate: Plate,
    ctx: VinContext,
    state: State = None,
    region: SameRegion = None,
    include_extended_data: bool = False,
    prefer_more_results: bool = False,
) -> CallToolResult | InputRequiredResult:
    return await _lookup(
        "lookup_registration",
        ctx,
        lambda chosen: PlateSearch.parse(plate, state, chosen),
        region,
        include_extended_data,
        prefer_more_results,
    )


async def _lookup(
    tool: str,
    ctx: VinContext,
    search: Callable[[str], Search],
    region: str | None,
    include_extended_data: bool,
    prefer_more_results: bool,
) -> CallToolResult | InputRequiredResult:
    """Every kind of lookup: the search checked (in the region chosen), AutoGrab asked once, the person asked
    when the answer leaves a question."""
    from vin_mcp.answers.lookup import lookup_answer
    from vin_mcp.mcp_server.questions import ask, from_reply

    # The client's retry with the person's reply to a question this tool asked (2026-07-28): answered from
    # the sealed state, without asking AutoGrab again.
    replying = ctx.request_state is not None
    service = _service(ctx)
    if replying and (settled := await _run(tool, from_reply(ctx))) is not None:
        return _lookup_result(settled)

    async def found() -> "LookupFacts":
        chosen = service.region(region)
        request = LookupRequest(
            search=search(chosen),
            region=chosen,
            include_extended_data=include_extended_data,
            prefer_more_results=prefer_more_results,
            reference_id=_caller_tag(service),
        )
        return await service.lookup_facts(request)

    facts = await _run(tool, found())
    # At most one question per call: a retry whose state could not be read is answered as it stands.
    answer = lookup_answer(facts) if replying else await _run(tool, ask(ctx, facts))
    if isinstance(answer, InputRequiredResult):
        return answer
    return _lookup_result(answer)


async def get_factory_build_data(
    vin: Vin,
    ctx: VinContext,
    region: RegionArg = None,
    search: Annotated[str | None, Field(max_length=100)] = None,
    # Bounds published, and checked by the service, which says what is wrong in one line.
    limit: Annotated[int, Field(json_schema_extra={"minimum": 1, "maximum": MAX_BUILD_CODES_LIMIT})] = (
        DEFAULT_BUILD_CODES_LIMIT
    ),
    offset: Annotated[int, Field(json_schema_extra={"minimum": 0})] = 0,  # the answer says which offset is next
) -> CallToolResult:
    service = _service(ctx)
    answer = await _run(
        "get_factory_build_data", service.build_data(vin, region, search=search, limit=limit, offset=offset)
    )
    return _build_data_result(answer)


def _caller_tag(service: VinService) -> str | None:
    """The usage tag AutoGrab stores with the search, from the caller's OAuth token (VIN_MCP_REFERENCE_ID_FROM),
    so billing can be traced to a person or an app; None leaves AUTOGRAB_REFERENCE_ID."""
    source, token = service.settings.reference_id_from, get_access_token()
    if source is None or token is None:
        return None
    tag = token.subject if source == "subject" else token.client_id
    return tag[:100] if tag else None


def _service(ctx: VinContext) -> VinService:
    return ctx.request_context.lifespan_context


async def _run(tool: str, call: Awaitable[T]) -> T:
    """Every failure becomes a one-line ToolError with a remedy; nothing else reaches the client.

    A failure the operator can act on (key, configuration, AutoGrab) is one WARNING line in the log; a
    caller's bad argument only INFO. The key is removed from every log record (redaction.RedactingFilter).
    """
    try:
        return await call
    except VinMcpError as exc:
        operator = isinstance(exc, UpstreamError | ConfigurationError)
        logger.log(logging.WARNING if operator else logging.INFO, "%s failed: %s", tool, exc.message)
        raise ToolError(str(exc)) from None
    except Exception as exc:
        logger.exception("Unexpected failure in a vin-mcp tool")
        raise ToolError(
            f"vin-mcp hit an internal error ({type(exc).__name__}); details are in the server log. "
            "Try again; if it persists, report it to the vin-mcp maintainers."
        ) from None


def _lookup_result(answer: "LookupAnswer") -> CallToolResult:
    from vin_mcp.answers.render import render_lookup

    return _result(render_lookup(answer), answer.dump())


def _build_data_result(answer: "BuildDataAnswer") -> CallToolResult:
    from vin_mcp.answers.render import render_build_data

    return _result(render_build_data(answer), answer.dump())


def _result(text: str, structured: dict[str, object]) -> CallToolResult:
    # The API key is removed from both channels on the way out (server.RedactionMiddleware).
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


async def choose_vehicle(
    choice: str,
    ctx: VinContext,
    vin: str | None = None,
    plate: str | None = None,
    state: str | None = None,
    region: str | None = None,
    include_extended_data: bool = False,
    prefer_more_results: bool = False,
) -> CallToolResult:
    """The vehicle card's pick among a lookup's candidates (or yes/no on a doubtful match): the lookup's own
    arguments plus the person's choice, answered from that lookup, never from a second search."""
    service = _service(ctx)

    async def settled() -> "LookupAnswer":
        chosen = service.region(region)
        asked = LookupRequest(
            search=search_for(vin=vin, plate=plate, state=state, region=chosen),
            region=chosen,
            include_extended_data=include_extended_data,
            prefer_more_results=prefer_more_results,
        )
        return await service.settled(asked, choice)

    return _lookup_result(await _run("choose_vehicle", settled()))


def build_tools() -> list[Tool]:
    """The tools, as the SDK builds them (``schema.CompactToolSchemas`` shrinks what tools/list publishes)."""
    # Each names the vehicle card (MCP Apps); only a client that renders apps loads it.
    return [
        _answering(
            "LookupAnswer",
            lookup_vin,
            title="Look up a VIN",
            description=LOOKUP_DESCRIPTION,
            annotations=READ_ONLY_REMOTE,
            meta=CARD_META,
        ),
        _answering(
            "LookupAnswer",
            lookup_registration,
            title="Look up a number plate",
            description=PLATE_DESCRIPTION,
            annotations=READ_ONLY_REMOTE,
            meta=CARD_META,
        ),
        _answering(
            "BuildDataAnswer",
            get_factory_build_data,
            title="Factory build data for a VIN",
            description=BUILD_DATA_DESCRIPTION,
            annotations=READ_ONLY_REMOTE,
            meta=CARD_META,
        ),
        _answering(
            "LookupAnswer",
            choose_vehicle,
            title="Pick the vehicle (vehicle card)",
            description="The person's pick on the vehicle card; answered from the lookup already made.",
            annotations=READ_ONLY_REMOTE,
            meta=APP_ONLY_META,
        ),
    ]


def _answering(model: str, fn: Callable[..., Any], **details: Any) -> Tool:
    """A tool whose structured answers are the answer model ``model`` dumped: its schema is published from
    ``OUTPUT_SCHEMAS``, and the SDK does not validate each answer against it again (every answer is built as that
    model, validated then)."""
    tool = Tool.from_function(fn, structured_output=False, **details)
    tool.fn_metadata.output_schema = shipped_output_schemas()[model]
    return tool


@functools.cache
def shipped_output_schemas() -> dict[str, dict[str, Any]]:
    """The answer models' JSON schemas as shipped: deriving them at start would build every answer model (the
    models defer that to their first use). tests/test_schema.py keeps the file equal to the models."""
    schemas: dict[str, dict[str, Any]] = json.loads(OUTPUT_SCHEMAS.read_bytes())
    return schemas
