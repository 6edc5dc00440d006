"""The vehicle card over MCP (issue 22): what a client that renders apps gets, on both protocol eras, and what one
that does not gets (nothing it pays for in tokens beyond each tool's ``_meta`` key); the card's pick answered from
the lookup already made."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from tests import fake_autograb as fa
from tests.test_golden import GOLDEN
from vin_mcp.mcp_server.card import CARD_URI
from vin_mcp.mcp_server.server import create_server
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio
RENDERS_APPS = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
LOOKUPS = {"lookup_vin", "lookup_registration", "get_factory_build_data"}


def app_client(settings: Settings, mode: str) -> Client:
    return Client(create_server(settings), extensions=RENDERS_APPS, mode=mode)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_client_that_renders_apps_gets_the_card(settings: Settings, mode: str) -> None:
    async with app_client(settings, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        resources = (await client.list_resources()).resources
        card = await client.read_resource(CARD_URI)
    assert set(tools) == {*LOOKUPS, "choose_vehicle"}
    for name in LOOKUPS:
        assert (tools[name].meta or {})["ui"] == {"resourceUri": CARD_URI}
    assert (tools["choose_vehicle"].meta or {})["ui"]["visibility"] == ["app"]
    assert [str(r.uri) for r in resources] == [CARD_URI] and resources[0].mime_type == APP_MIME_TYPE
    (content,) = card.contents
    assert content.mime_type == APP_MIME_TYPE
    html = content.text  # type: ignore[union-attr]
    assert html.startswith("<!doctype html>") and "default-src 'none'" in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch
    csp = (content.meta or {})["ui"]["csp"]
    assert all(domains == [] for domains in csp.values())


async def test_a_client_that_does_not_render_apps_sees_no_extra_tool(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with Client(create_server(settings)) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("lookup_vin", {"vin": fa.RICH})
    assert {tool.name for tool in tools} == LOOKUPS
    golden = json.loads((GOLDEN / "rich_match.json").read_text(encoding="utf-8"))
    assert result.structured_content == golden
    assert result.content[0].text == (GOLDEN / "rich_match.txt").read_text(encoding="utf-8").rstrip("\n")  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_cards_pick_is_answered_from_the_lookup_already_made(
    fake: fa.FakeAutoGrab, settings: Settings, mode: str
) -> None:
    async with app_client(settings, mode) as client:
        asked = {"vin": fa.CANDIDATES, "prefer_more_results": True}
        await client.call_tool("lookup_vin", asked)
        picked = await client.call_tool("choose_vehicle", {**asked, "choice": "2"})
        none = await client.call_tool("choose_vehicle", {**asked, "choice": "none"})
        wrong = await client.call_tool("choose_vehicle", {**asked, "choice": "7"})
    answer = picked.structured_content or {}
    assert answer["status"] == "user_confirmed" and answer["vehicle"]["badge"] == "Trendline"
    assert "cached_minutes_ago" in answer
    assert (none.structured_content or {})["status"] == "no_match"
    assert wrong.is_error and "choice is '7'" in wrong.content[0].text  # type: ignore[union-attr]
    assert len(fake.calls(fa.CANDIDATES)) == 1


async def test_a_pick_never_pays_for_a_search(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with app_client(settings, "legacy") as client:
        result = await client.call_tool("choose_vehicle", {"plate": "CAND1", "state": "VIC", "choice": "1"})
    assert result.is_error and "no longer at hand" in result.content[0].text  # type: ignore[union-attr]
    assert fake.calls() == []


async def test_the_server_advertises_only_what_it_has(settings: Settings) -> None:
    """Prompts and resources are advertised, and each holds something real (issue 23)."""
    async with Client(create_server(settings)) as client:
        prompts = (await client.list_prompts()).prompts
        resources = (await client.list_resources()).resources
        said = await client.get_prompt("identify_vehicle", {"vin_or_plate": "ABC123", "state": "VIC"})
    assert [p.name for p in prompts] == ["identify_vehicle"] and [str(r.uri) for r in resources] == [CARD_URI]
    text = said.messages[0].content.text  # type: ignore[union-attr]
    assert "lookup_registration" in text and "'ABC123' (state VIC)" in text
