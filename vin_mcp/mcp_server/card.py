"""The vehicle card: an MCP App (the UI extension, 2026-01-26) that hosts which render apps show beside the text.

One self-contained HTML document (no network, no build step; ``app/vehicle_card.html``) bound to the lookup
tools and to ``get_factory_build_data``. It renders the tools' ``structuredContent``; the text channel stays
complete for every other client. Its one helper tool, ``choose_vehicle``, is for the card alone (visibility
"app"): a client that did not negotiate the extension never sees it in tools/list (``AppOnlyTools``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp.server.apps import Apps, ResourceCsp, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

CARD_URI = "ui://vin-mcp/vehicle-card.html"
# Where a tool's app is named (the flat "ui/resourceUri" key is deprecated).
CARD_META: dict[str, Any] = {"ui": {"resourceUri": CARD_URI}}
APP_ONLY_META: dict[str, Any] = {"ui": {"resourceUri": CARD_URI, "visibility": ["app"]}}


def card_html() -> str:
    # Beside this module in every install (wheel, editable, bundle): read without importing importlib.resources.
    return (Path(__file__).parent / "app" / "vehicle_card.html").read_text(encoding="utf-8")


def card_extension() -> Apps:
    """The extension, with the card as its one resource. The CSP names no domain at all: the card loads nothing
    and connects nowhere (its document repeats that as its own Content-Security-Policy)."""
    apps = Apps()
    apps.add_html_resource(
        CARD_URI,
        card_html(),
        name="vehicle-card",
        title="Vehicle card",
        description="The vehicle, its confidence, write-offs, option packs, candidates to pick, build codes.",
        csp=ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[]),
        prefers_border=True,
    )
    return apps


class AppOnlyTools:
    """tools/list without the tools only an app calls, for a client that did not negotiate the extension."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "tools/list" or not isinstance(result, dict) or client_supports_apps(ctx):
            return result
        shown = [tool for tool in result.get("tools", []) if not _app_only(tool)]
        return {**result, "tools": shown}


def _app_only(tool: dict[str, Any]) -> bool:
    ui = (tool.get("_meta") or {}).get("ui") or {}
    return isinstance(ui, dict) and ui.get("visibility") == ["app"]
