"""The MCP tool adapters: arguments in, short text plus structured answer out, errors as ToolError.

No ``from __future__ import annotations`` here: the SDK reads these signatures at runtime.
"""

import logging
from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from .answers import BuildDataAnswer, LookupAnswer
from .errors import VinMcpError
from .render import render_build_data, render_lookup
from .sanitise import redact
from .service import DEFAULT_BUILD_CODES_LIMIT, MAX_BUILD_CODES_LIMIT, VinService

logger = logging.getLogger(__name__)
T = TypeVar("T")

LOOKUP_DESCRIPTION = (
    "Identify a vehicle from its VIN: registered make, model, badge, year, body, engine, colour, option packs, "
    "write-off history, plus a confidence level with advice. Read confidence before answering: unless it is "
    "'high', confirm with the user. Works offline (VIN decode only) without an API key."
)
BUILD_DATA_DESCRIPTION = (
    "Factory build date and option codes ('0A2: 4 doors') for a VIN, paged; use search to find a feature "
    "(e.g. 'sunroof'). European and US makes from 1999 on; not Japanese makes or Tesla."
)

Vin = Annotated[str, Field(description="17-character VIN; spaces and dashes are ignored.", max_length=64)]
RegionArg = Annotated[
    Literal["au", "nz", "uk"] | None, Field(description="Registration region; server default if omitted.")
]

LOOKUP_ANNOTATIONS = ToolAnnotations(
    title="Look up a VIN", read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
BUILD_DATA_ANNOTATIONS = ToolAnnotations(
    title="Factory build data for a VIN",
    read_only_hint=True,
    destructive_hint=False,
    idempotent_hint=True,
    open_world_hint=True,
)


async def lookup_vin(
    vin: Vin,
    ctx: Context,
    region: RegionArg = None,
    include_extended_data: Annotated[
        bool, Field(description="Also return the registration authority's own record (if the plan allows).")
    ] = False,
    prefer_more_results: Annotated[
        bool, Field(description="Return candidate vehicles when the match is ambiguous.")
    ] = False,
    reference_id: Annotated[
        str | None, Field(description="Usage tag stored with the billing record.", max_length=100)
    ] = None,
) -> Annotated[CallToolResult, LookupAnswer]:
    service = _service(ctx)
    answer = await _run(
        service,
        service.lookup(
            vin,
            region,
            include_extended_data=include_extended_data,
            prefer_more_results=prefer_more_results,
            reference_id=reference_id,
        ),
    )
    return _result(render_lookup(answer), answer.dump(), service)


async def get_factory_build_data(
    vin: Vin,
    ctx: Context,
    region: RegionArg = None,
    search: Annotated[
        str | None, Field(description="Only codes whose code or description contains this text.", max_length=100)
    ] = None,
    limit: Annotated[int, Field(description="Codes per page.", ge=1, le=MAX_BUILD_CODES_LIMIT)] = (
        DEFAULT_BUILD_CODES_LIMIT
    ),
    offset: Annotated[int, Field(description="Codes to skip (from next_offset).", ge=0)] = 0,
) -> Annotated[CallToolResult, BuildDataAnswer]:
    service = _service(ctx)
    answer = await _run(service, service.build_data(vin, region, search=search, limit=limit, offset=offset))
    return _result(render_build_data(answer), answer.dump(), service)


def _service(ctx: Context) -> VinService:
    service = ctx.request_context.lifespan_context
    if not isinstance(service, VinService):
        raise ToolError("vin-mcp is not fully started; try again in a moment.")
    return service


async def _run(service: VinService, call: Awaitable[T]) -> T:
    """Every failure becomes a one-line ToolError with a remedy; nothing else reaches the client."""
    try:
        return await call
    except VinMcpError as exc:
        # The SDK logs the ToolError's text at INFO; logging it here too would say it twice.
        raise ToolError(redact(str(exc), service.settings.api_key)) from None
    except Exception as exc:
        logger.exception("Unexpected failure in a vin-mcp tool")
        raise ToolError(
            f"vin-mcp hit an internal error ({type(exc).__name__}); details are in the server log. "
            "Try again; if it persists, report it to the vin-mcp maintainers."
        ) from None


def _result(text: str, structured: dict[str, object], service: VinService) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=redact(text, service.settings.api_key))], structured_content=structured
    )
