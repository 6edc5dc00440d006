"""vin-mcp's tools registered the plain way, served over stdio: the schemas the SDK publishes by default."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel

from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer
from vin_mcp.mcp_server.server import INSTRUCTIONS
from vin_mcp.mcp_server.tools import (
    BUILD_DATA_DESCRIPTION,
    LOOKUP_DESCRIPTION,
    PLATE_DESCRIPTION,
    get_factory_build_data,
    lookup_registration,
    lookup_vin,
)


def answering(model: type[BaseModel], fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``fn`` declared as returning ``model``, as a tool written the plain way says it, so the SDK derives and
    publishes the model's whole schema as the tool's output schema."""

    @functools.wraps(fn)
    async def tool(*args: Any, **kwargs: Any) -> Any:
        return await fn(*args, **kwargs)

    tool.__signature__ = inspect.signature(fn).replace(  # type: ignore[attr-defined]
        return_annotation=Annotated[CallToolResult, model]
    )
    return tool


server: MCPServer[Any] = MCPServer("vin-mcp-sdk-default", instructions=INSTRUCTIONS)
server.add_tool(answering(LookupAnswer, lookup_vin), description=LOOKUP_DESCRIPTION)
server.add_tool(answering(LookupAnswer, lookup_registration), description=PLATE_DESCRIPTION)
server.add_tool(answering(BuildDataAnswer, get_factory_build_data), description=BUILD_DATA_DESCRIPTION)

if __name__ == "__main__":
    server.run()
