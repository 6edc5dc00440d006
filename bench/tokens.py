"""Token figures: tools/list and each answer beside the raw API JSON, as clients send them (compact)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from mcp import Client
from mcp.server.mcpserver import MCPServer

from bench.bare_server import server as bare_server
from bench.common import (
    Row,
    compact_json,
    settings_for,
    text_of,
    tokens,
)
from tests import fake_autograb as fa
from vin_mcp.mcp_server.server import INSTRUCTIONS, create_server
from vin_mcp.mcp_server.tools import BUILD_DATA_DESCRIPTION, LOOKUP_DESCRIPTION, get_factory_build_data, lookup_vin
from vin_mcp.settings import Settings


async def tools_list_tokens(server: MCPServer[Any]) -> int:
    async with Client(server) as client:
        listed = await client.list_tools()
    return tokens(compact_json(listed.model_dump(mode="json", by_alias=True, exclude_none=True)))


def sdk_default_server() -> MCPServer[Any]:
    """The same two tools registered the plain way: the schemas the SDK publishes by default."""
    server: MCPServer[Any] = MCPServer("vin-mcp-sdk-default", instructions=INSTRUCTIONS)
    server.add_tool(lookup_vin, description=LOOKUP_DESCRIPTION)
    server.add_tool(get_factory_build_data, description=BUILD_DATA_DESCRIPTION)
    return server


async def measure_tokens(fake: fa.FakeAutoGrab) -> list[Row]:
    ours = await tools_list_tokens(create_server(Settings()))
    bare = await tools_list_tokens(bare_server)
    default = await tools_list_tokens(sdk_default_server())

    # The bodies exactly as the API serves them: what a pass-through server would hand the model.
    async with httpx.AsyncClient(base_url=fake.url, headers={"ApiKey": fa.API_KEY}) as http:
        raw_lookup_json = (await http.get(f"/v2/vehicles/vins/{fa.RICH}")).text
        raw_build_json = (await http.get(f"/v2/vehicles/vins/{fa.BUILD}/build-data")).text
    fake.reset()
    async with Client(create_server(settings_for(fake))) as client:
        lookup = await client.call_tool("lookup_vin", {"vin": fa.RICH})
        build = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD})
        pages, next_offset = 1, (build.structured_content or {}).get("next_offset")
        while next_offset is not None:
            page = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "offset": next_offset})
            pages, next_offset = pages + 1, (page.structured_content or {}).get("next_offset")
        searched = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "search": "sunroof"})
    build_upstream = len(fake.calls(fa.BUILD))

    lookup_text = text_of(lookup)
    kept, facts = facts_kept(json.loads(raw_lookup_json), lookup_text)
    # As a client or a pass-through server would send it to a model: compact JSON.
    raw_lookup = tokens(compact_json(json.loads(raw_lookup_json)))
    raw_build = tokens(compact_json(json.loads(raw_build_json)))
    structured = tokens(compact_json(lookup.structured_content))
    build_text = text_of(build)
    total_codes = (build.structured_content or {})["total_codes"]
    search_hits = len((searched.structured_content or {}).get("codes", []))
    return [
        Row(
            "tools/list, tokens",
            f"{ours}",
            f"bare echo server {bare}; same tools, SDK-default schemas {default}",
            "≤ 700",
            ours <= 700,
        ),
        Row(
            "lookup_vin text, tokens (rich vehicle, 12 option packs)",
            f"{tokens(lookup_text)} ({tokens(lookup_text) / raw_lookup:.0%} of raw); "
            f"facts kept {kept}/{facts}; structuredContent {structured} ({structured / raw_lookup:.0%})",
            f"raw API JSON, compact {raw_lookup}",
            "text ≤ 55 % of raw, all facts",
            tokens(lookup_text) <= 0.55 * raw_lookup and kept == facts,
        ),
        Row(
            f"get_factory_build_data default answer, tokens ({total_codes} codes)",
            f"{tokens(build_text)}; all codes in {pages} calls, {build_upstream} billed; "
            f"search 'sunroof': 1 call, {search_hits} codes",
            f"raw API JSON, compact {raw_build} (1 call)",
            "≤ 1,500",
            tokens(build_text) <= 1500,
        ),
    ]


def facts_kept(raw: dict[str, Any], text: str) -> tuple[int, int]:
    """The facts an assistant needs from the raw answer, and how many of them the text still states."""
    vehicle = raw["vehicle"]
    keys = ("title", "make", "model", "badge", "series", "year", "body_type", "transmission", "fuel", "drive_type")
    facts = [str(vehicle[key]) for key in keys if vehicle.get(key)]
    facts += [
        f"{vehicle[key]} {unit}" for key, unit in (("capacity_cc", "cc"), ("power_kw", "kW"), ("torque_nm", "Nm"))
    ]
    facts += [f"{vehicle['num_doors']} doors", f"{vehicle['num_seats']} seats", f"{vehicle['num_cylinders']}-cyl"]
    facts += [str(option["detail"]) for option in vehicle.get("options", [])]
    facts += [str(raw[key]) for key in ("colour", "upstream_vehicle") if raw.get(key)]
    facts += ["Write-off: None recorded"] if raw.get("writeoff_info") == {"incident_list": []} else []
    # The text quotes API strings as JSON, so compare with the escaping undone.
    plain = text.replace('\\"', '"').lower()
    return sum(fact.lower() in plain for fact in facts), len(facts)
