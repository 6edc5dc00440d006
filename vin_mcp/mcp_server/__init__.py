"""The MCP adapter: the two tools, the server (stdio) and the streamable HTTP transport."""
