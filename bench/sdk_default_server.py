"""vin-mcp's tools registered the plain way, served over stdio: the schemas the SDK publishes by default."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from vin_mcp.mcp_server.server import INSTRUCTIONS
from vin_mcp.mcp_server.tools import (
    BUILD_DATA_DESCRIPTION,
    LOOKUP_DESCRIPTION,
    PLATE_DESCRIPTION,
    get_factory_build_data,
    lookup_registration,
    lookup_vin,
)

server: MCPServer[Any] = MCPServer("vin-mcp-sdk-default", instructions=INSTRUCTIONS)
server.add_tool(lookup_vin, description=LOOKUP_DESCRIPTION)
server.add_tool(lookup_registration, description=PLATE_DESCRIPTION)
server.add_tool(get_factory_build_data, description=BUILD_DATA_DESCRIPTION)

if __name__ == "__main__":
    server.run()
