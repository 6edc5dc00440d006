"""Token figures: the tools as an LLM is sent them, and every kind of answer beside the raw API JSON.

Counted as clients send them: compact JSON, cl100k. An answer is read through one channel (the text or
``structuredContent``, never both: ../shared/mcp-sdk-notes.md), so each channel is measured on its own
against the body a pass-through server would hand the model, the API's JSON served compact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from mcp import Client
from mcp.server.mcpserver import MCPServer

from bench.bare_server import server as bare_server
from bench.common import Row, compact_json, settings_for, text_of, tokens
from tests import fake_autograb as fa
from vin_mcp.mcp_server.server import INSTRUCTIONS, create_server
from vin_mcp.mcp_server.tools import (
    BUILD_DATA_DESCRIPTION,
    LOOKUP_DESCRIPTION,
    PLATE_DESCRIPTION,
    get_factory_build_data,
    lookup_registration,
    lookup_vin,
)
from vin_mcp.settings import Settings

# What a model is given of each tool; clients send neither the output schema nor the annotations.
LLM_VIEW = ("name", "description", "inputSchema")


@dataclass(frozen=True)
class Kind:
    """One kind of answer: the call that produces it, and the raw API body it condenses."""

    name: str
    tool: str
    arguments: dict[str, Any]
    yardstick: bool = False  # the target and the facts check apply to this one


KINDS = [
    Kind("sure match (12 option packs)", "lookup_vin", {"vin": fa.RICH}, yardstick=True),
    Kind("unconfirmed (VIN and registry disagree)", "lookup_vin", {"vin": fa.CONTRADICTED}),
    Kind("unconfirmed (AutoGrab 'reduced')", "lookup_vin", {"vin": fa.REDUCED}),
    Kind("candidates (3 vehicles)", "lookup_vin", {"vin": fa.CANDIDATES, "prefer_more_results": True}),
    Kind("written off twice", "lookup_vin", {"vin": fa.WRITTEN_OFF}),
    Kind("registration record", "lookup_vin", {"vin": fa.EXTENDED, "include_extended_data": True}),
    Kind("no match, registry text", "lookup_vin", {"vin": fa.NO_MATCH_NULL}),
    Kind("build data, first page (300 codes)", "get_factory_build_data", {"vin": fa.BUILD}),
    Kind("build data, none for this VIN", "get_factory_build_data", {"vin": fa.BUILD_UNSUPPORTED}),
]


def raw_path(kind: Kind) -> str:
    """The API request the answer condenses (the same VIN and options, fetched directly)."""
    vin = kind.arguments["vin"]
    query = "?features=additional_upstream_data" if kind.arguments.get("include_extended_data") else ""
    suffix = "/build-data" if kind.tool == "get_factory_build_data" else ""
    return f"/v2/vehicles/vins/{vin}{suffix}{query}"


async def tool_tokens(server: MCPServer[Any]) -> tuple[int, int]:
    """(what an LLM is sent of the tools, the whole tools/list result as it crosses the wire)."""
    async with Client(server) as client:
        listed = await client.list_tools()
    # exclude_unset: only what the server sent, not the defaults the client's models fill in.
    wire = listed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    view = [{key: tool[key] for key in LLM_VIEW if key in tool} for tool in wire["tools"]]
    return tokens(compact_json(view)), tokens(compact_json(wire))


def sdk_default_server() -> MCPServer[Any]:
    """The same tools registered the plain way: the schemas the SDK publishes by default."""
    server: MCPServer[Any] = MCPServer("vin-mcp-sdk-default", instructions=INSTRUCTIONS)
    server.add_tool(lookup_vin, description=LOOKUP_DESCRIPTION)
    server.add_tool(lookup_registration, description=PLATE_DESCRIPTION)
    server.add_tool(get_factory_build_data, description=BUILD_DATA_DESCRIPTION)
    return server


async def measure_tokens(fake: fa.FakeAutoGrab) -> list[Row]:
    llm, wire = await tool_tokens(create_server(Settings()))
    bare_llm, bare_wire = await tool_tokens(bare_server)
    default_llm, default_wire = await tool_tokens(sdk_default_server())
    rows = [
        Row(
            "tools as an LLM is sent them (name, description, input schema), tokens",
            f"{llm}",
            f"bare echo server {bare_llm}; same tools, SDK-default schemas {default_llm}",
            "≤ 420 (three tools)",
            llm <= 420,
        ),
        Row(
            "tools/list result on the wire, tokens",
            f"{wire}",
            f"bare echo server {bare_wire}; same tools, SDK-default schemas {default_wire}",
            "≤ 1,150 (three tools, each naming the card)",
            wire <= 1_150,
        ),
    ]
    descriptions = tokens(" ".join((LOOKUP_DESCRIPTION, PLATE_DESCRIPTION, BUILD_DATA_DESCRIPTION)))
    rows.append(
        Row(
            "initialize instructions, tokens",
            f"{tokens(INSTRUCTIONS)}",
            f"the three tool descriptions {descriptions}",
            "≤ 80",
            tokens(INSTRUCTIONS) <= 80,
        )
    )
    rows.extend(await answer_rows(fake))
    rows.append(await paging_row(fake))
    return rows


async def answer_rows(fake: fa.FakeAutoGrab) -> list[Row]:
    rows = []
    async with httpx.AsyncClient(base_url=fake.url, headers={"ApiKey": fa.API_KEY}) as http:
        raws = [(await http.get(raw_path(kind))).json() for kind in KINDS]
    fake.reset()
    async with Client(create_server(settings_for(fake))) as client:
        results = [await client.call_tool(kind.tool, kind.arguments) for kind in KINDS]
    for kind, raw_body, result in zip(KINDS, raws, results, strict=True):
        raw = tokens(compact_json(raw_body))
        text = tokens(text_of(result))
        structured = tokens(compact_json(result.structured_content))
        figures = f"text {text} ({text / raw:.0%}); structuredContent {structured} ({structured / raw:.0%})"
        if kind.yardstick:  # the rich vehicle: the yardstick, with every fact checked in both channels
            text_kept, facts = facts_kept(raw_body, text_of(result))
            structured_kept, _ = facts_kept(raw_body, compact_json(result.structured_content))
            rows.append(
                Row(
                    f"answer tokens: {kind.name}",
                    f"{figures}; facts kept: text {text_kept}/{facts}, structured {structured_kept}/{facts}",
                    f"raw API JSON, compact {raw}",
                    "text ≤ 55 %, structured ≤ 75 % of raw, every fact in each",
                    text <= 0.55 * raw and structured <= 0.75 * raw and text_kept == structured_kept == facts,
                )
            )
        else:
            rows.append(Row(f"answer tokens: {kind.name}", figures, f"raw API JSON, compact {raw}", "—", None))
    return rows


async def paging_row(fake: fa.FakeAutoGrab) -> Row:
    fake.reset()
    async with httpx.AsyncClient(base_url=fake.url, headers={"ApiKey": fa.API_KEY}) as http:
        raw_build = tokens(compact_json((await http.get(f"/v2/vehicles/vins/{fa.BUILD}/build-data")).json()))
    fake.reset()
    async with Client(create_server(settings_for(fake))) as client:
        build = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD})
        pages, next_offset = 1, (build.structured_content or {}).get("next_offset")
        while next_offset is not None:
            page = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "offset": next_offset})
            pages, next_offset = pages + 1, (page.structured_content or {}).get("next_offset")
        searched = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "search": "sunroof"})
    billed = len(fake.calls(fa.BUILD))
    first_page = tokens(text_of(build))
    total_codes = (build.structured_content or {})["total_codes"]
    search_hits = len((searched.structured_content or {}).get("codes", []))
    return Row(
        f"get_factory_build_data default answer, tokens ({total_codes} codes)",
        f"{first_page}; all codes in {pages} calls, {billed} billed; search 'sunroof': 1 call, {search_hits} codes",
        f"raw API JSON, compact {raw_build} (1 call)",
        "≤ 1,500",
        first_page <= 1500,
    )


def facts_kept(raw: dict[str, Any], answer: str) -> tuple[int, int]:
    """The facts an assistant needs from the raw answer (issue 11, points 3 to 7), and how many the answer states."""
    vehicle = raw["vehicle"]
    keys = ("make", "model", "badge", "series", "year", "body_type", "transmission", "fuel", "drive_type")
    facts = [str(vehicle[key]) for key in keys if vehicle.get(key)]
    facts += [str(vehicle[key]) for key in ("capacity_cc", "power_kw", "torque_nm", "num_doors", "num_seats")]
    facts += [str(vehicle["num_cylinders"])]
    # Each option pack with its price, the currency, and that they are not confirmed fitted.
    facts += [str(part) for option in vehicle.get("options", []) for part in (option["detail"], option["price"])]
    facts += ["AUD", "not confirmed", "get_factory_build_data"]
    facts += [str(raw[key]) for key in ("colour",) if raw.get(key)]
    facts += ["None recorded"] if raw.get("writeoff_info") == {"incident_list": []} else []
    facts += [str(raw["confidence"])]
    # Both channels quote API strings as JSON, so compare with the escaping undone.
    plain = answer.replace('\\"', '"').lower()
    return sum(fact.lower() in plain for fact in facts), len(facts)
