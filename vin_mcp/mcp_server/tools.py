"""The MCP tool adapters: arguments in, short text plus structured answer out, errors as ToolError.

No ``from __future__ import annotations`` here: the SDK reads these signatures at runtime.
"""

import logging
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer
from vin_mcp.answers.render import render_build_data, render_lookup
from vin_mcp.autograb.requests import LookupRequest
from vin_mcp.errors import VinMcpError
from vin_mcp.service import DEFAULT_BUILD_CODES_LIMIT, MAX_BUILD_CODES_LIMIT, VinService

logger = logging.getLogger(__name__)
# The lifespan (server.create_server) yields the VinService; the request type is not used.
VinContext = Context[VinService, Any]
T = TypeVar("T")

LOOKUP_DESCRIPTION = (
    "Identify a vehicle by VIN (make, model, variant, specs, colour, options, write-offs) with a confidence "
    "level. Unless it is 'high', confirm with the user; on 'none' say nothing was found."
)
BUILD_DATA_DESCRIPTION = (
    "Factory build date and option codes for a VIN, paged; search finds a feature ('sunroof'). "
    "European and US makes from 1999 only."
)

Vin = Annotated[str, Field(description="Spaces and dashes are ignored.", max_length=64)]
# Published as the three codes; accepted in any letter case (the service checks it and says what is wrong in
# one line). Omitted: the server's AUTOGRAB_REGION.
RegionArg = Annotated[str | None, Field(json_schema_extra={"enum": ["au", "nz", "uk"]})]

# Published as their bare type (object, array): their full shapes would cost every conversation tokens that
# no model reads (clients do not send output schemas to the model). Their shapes are the models in answers/.
LOOSE_OUTPUT_PROPERTIES = frozenset(
    {"vehicle", "decode", "write_off", "registration_record", "record_disagrees", "candidates", "codes", "provenance"}
)
# Destructive and idempotent hints mean nothing for a read-only tool (MCP spec), so they are not sent.
READ_ONLY_REMOTE = ToolAnnotations(read_only_hint=True, open_world_hint=True)


async def lookup_vin(
    vin: Vin,
    ctx: VinContext,
    region: RegionArg = None,
    include_extended_data: Annotated[
        bool, Field(description="Add the registry's own record (plan permitting).")
    ] = False,
    prefer_more_results: Annotated[bool, Field(description="List candidates when ambiguous.")] = False,
    reference_id: Annotated[str | None, Field(description="Billing usage tag.", max_length=100)] = None,
) -> Annotated[CallToolResult, LookupAnswer]:
    service = _service(ctx)
    answer = await _run(
        service,
        service.lookup(
            LookupRequest(
                vin=vin,
                region=region,
                include_extended_data=include_extended_data,
                prefer_more_results=prefer_more_results,
                reference_id=reference_id,
            )
        ),
    )
    return _result(render_lookup(answer), answer.dump())


async def get_factory_build_data(
    vin: Vin,
    ctx: VinContext,
    region: RegionArg = None,
    search: Annotated[str | None, Field(description="Only codes containing this text.", max_length=100)] = None,
    # Bounds published, and checked by the service, which says what is wrong in one line.
    limit: Annotated[
        int, Field(description="Codes per page.", json_schema_extra={"minimum": 1, "maximum": MAX_BUILD_CODES_LIMIT})
    ] = (DEFAULT_BUILD_CODES_LIMIT),
    offset: Annotated[int, Field(json_schema_extra={"minimum": 0})] = 0,  # the answer says which offset is next
) -> Annotated[CallToolResult, BuildDataAnswer]:
    service = _service(ctx)
    answer = await _run(service, service.build_data(vin, region, search=search, limit=limit, offset=offset))
    return _result(render_build_data(answer), answer.dump())


def _service(ctx: VinContext) -> VinService:
    return ctx.request_context.lifespan_context


async def _run(service: VinService, call: Awaitable[T]) -> T:
    """Every failure becomes a one-line ToolError with a remedy; nothing else reaches the client."""
    try:
        return await call
    except VinMcpError as exc:
        # The SDK logs the ToolError's text at INFO; logging it here too would say it twice.
        raise ToolError(str(exc)) from None
    except Exception as exc:
        logger.exception("Unexpected failure in a vin-mcp tool")
        raise ToolError(
            f"vin-mcp hit an internal error ({type(exc).__name__}); details are in the server log. "
            "Try again; if it persists, report it to the vin-mcp maintainers."
        ) from None


def _result(text: str, structured: dict[str, object]) -> CallToolResult:
    # The API key is removed from both channels on the way out (server.RedactionMiddleware).
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def build_tools() -> list[Tool]:
    """Both tools, as the SDK builds them (``schema.CompactToolSchemas`` shrinks what tools/list publishes)."""
    return [
        Tool.from_function(
            lookup_vin, title="Look up a VIN", description=LOOKUP_DESCRIPTION, annotations=READ_ONLY_REMOTE
        ),
        Tool.from_function(
            get_factory_build_data,
            title="Factory build data for a VIN",
            description=BUILD_DATA_DESCRIPTION,
            annotations=READ_ONLY_REMOTE,
        ),
    ]
