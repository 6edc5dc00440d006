"""The baseline: a bare MCPServer with one echo tool, on the same SDK (stdio, or streamable HTTP)."""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--port":
        server.run(transport="streamable-http", port=int(sys.argv[2]), stateless_http=True, json_response=True)
    else:
        server.run()
