"""The MCP server: one shared HTTP client and service per process, built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.request_state import RequestStateSecurity
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import ValidationError

from vin_mcp import __version__
from vin_mcp.errors import ConfigurationError, ShuttingDownError
from vin_mcp.mcp_server.arguments import explain
from vin_mcp.mcp_server.card import AppOnlyTools, card_extension
from vin_mcp.mcp_server.prompts import build_prompts
from vin_mcp.mcp_server.schema import CompactToolSchemas
from vin_mcp.mcp_server.tools import LOOSE_OUTPUT_PROPERTIES, build_tools
from vin_mcp.redaction import Redactor
from vin_mcp.service import VinService, open_service
from vin_mcp.settings import Settings

SERVER_NAME = "vin-mcp"
SERVER_TITLE = "VIN lookup (AutoGrab)"
WEBSITE_URL = "https://github.com/vin-mcp/vin-mcp"
INSTRUCTIONS = (
    "lookup_vin or lookup_registration (plate) finds the vehicle; get_factory_build_data its build date and codes. "
    "Calls are billed: never repeat one. 'matched' with 'high' confidence is the vehicle; 'unconfirmed' or "
    "'candidates': confirm with the user; 'no_match': say so, never guess. Registry text is unverified; option "
    "packs not confirmed fitted."
)

logger = logging.getLogger(__name__)


class RedactionMiddleware:
    """Where every MCP result leaves the server: the API key is removed from both channels and errors."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            raise MCPError(exc.code, self.redactor.text(exc.message), self.redactor.scrub(exc.data)) from None
        # The SDK hands middleware the wire form (a dict) of the handler's result.
        return scrub_result(self.redactor, result) if isinstance(result, dict) else result


# Values the protocol itself defines: never the API's text, and a short secret that happens to equal one
# ("text") must not make the result unreadable. A sealed request state is opaque bytes in base64.
_PROTOCOL_VALUES = ("resultType", "requestState")


def scrub_result(redactor: Redactor, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` without the secrets, the protocol's own values left as they are."""
    scrubbed: dict[str, Any] = redactor.scrub(result)
    if scrubbed is result:
        return result
    for name in _PROTOCOL_VALUES:
        if name in result:
            scrubbed[name] = result[name]
    content, cleaned = result.get("content"), scrubbed.get("content")
    if isinstance(content, list) and isinstance(cleaned, list):
        for item, clean in zip(content, cleaned, strict=True):
            if isinstance(item, dict) and isinstance(clean, dict) and "type" in item:
                clean["type"] = item["type"]
    return scrubbed


class VinMcpServer(MCPServer[VinService]):
    """The SDK's server, with argument errors said in one plain line instead of a pydantic report."""

    # The service while the lifespan runs (for /health, which is not an MCP request).
    service: VinService | None = None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[VinService, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        service = self.service
        try:
            if service is None:
                return await super().call_tool(name, arguments, context)
            # The whole call is guarded, so a shutdown answers it ("shutting down") rather than dropping it.
            return await service.guarded(super().call_tool(name, arguments, context))
        except ShuttingDownError as exc:
            logger.info("%s answered: %s", name, exc.message)
            raise ToolError(str(exc)) from None
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError) and not isinstance(exc, UnexpectedToolError):
                raise ToolError(explain(name, exc.__cause__)) from exc.__cause__
            raise


def create_server(
    settings: Settings,
    unusable: ConfigurationError | None = None,
    *,
    auth: AuthSettings | None = None,
    token_verifier: TokenVerifier | None = None,
) -> VinMcpServer:
    """The server; with ``unusable`` (a setting that could not be read) every tool call answers with it.
    ``auth`` and ``token_verifier``: OAuth resource-server mode (the HTTP transport)."""

    # Entered once per process on every transport (the streamable HTTP manager shares it across sessions).
    @asynccontextmanager
    async def lifespan(_: MCPServer[VinService]) -> AsyncIterator[VinService]:
        if unusable is None and settings.api_key is None:
            logger.warning("AUTOGRAB_API_KEY is not set: lookup_vin answers with the offline VIN decode only")
        async with open_service(settings, unusable) as service:
            server.service = service
            try:
                yield service
            finally:
                server.service = None

    server = VinMcpServer(
        SERVER_NAME,
        title=SERVER_TITLE,
        instructions=INSTRUCTIONS,
        website_url=WEBSITE_URL,
        version=__version__,
        lifespan=lifespan,
        log_level="WARNING",
        tools=build_tools(),
        middleware=[
            RedactionMiddleware(Redactor([*settings.secrets(), *Settings.environment_secrets()])),
            CompactToolSchemas(LOOSE_OUTPUT_PROPERTIES),
            AppOnlyTools(),
        ],
        extensions=[card_extension()],
        # A question's state (the answer and the choices) travels sealed with the client's reply, so the
        # reply costs no second paid search, on whichever replica it lands. Unset: a key of this process.
        request_state_security=(
            RequestStateSecurity(keys=[settings.request_state_key.get_secret_value()])
            if settings.request_state_key
            else None
        ),
        auth=auth,
        token_verifier=token_verifier,
    )
    for prompt in build_prompts():
        server.add_prompt(prompt)
    return server
