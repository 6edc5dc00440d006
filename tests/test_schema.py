"""The published (compacted) schemas: smaller, but every real answer and argument still fits them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import connect
from vin_mcp.answers.models import BuildDataAnswer, LookupAnswer
from vin_mcp.mcp_server.schema import compact_schema
from vin_mcp.mcp_server.tools import OUTPUT_SCHEMAS
from vin_mcp.settings import Settings

GOLDEN = Path(__file__).parent / "golden"
# Read at import: the tests' fixture clears VIN_MCP_ variables.
UPDATE = os.environ.get("VIN_MCP_UPDATE_GOLDEN") == "1"


async def published() -> dict[str, Any]:
    async with connect(Settings()) as client:
        return {tool.name: tool for tool in (await client.list_tools()).tools}


@pytest.mark.anyio
@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("*.json")))
async def test_every_golden_answer_fits_the_published_output_schema(golden: str) -> None:
    tools = await published()
    tool = "get_factory_build_data" if golden.startswith("build") else "lookup_vin"
    schema = tools[tool].output_schema
    assert schema is not None
    jsonschema.validate(json.loads((GOLDEN / golden).read_text()), schema)


@pytest.mark.anyio
async def test_published_schemas_still_refuse_what_the_server_refuses() -> None:
    tools = await published()
    lookup, build = tools["lookup_vin"].input_schema, tools["get_factory_build_data"].input_schema
    jsonschema.validate({"vin": "WVWZZZ6RZAU020000", "region": "nz", "include_extended_data": True}, lookup)
    bad_lookups: list[dict[str, object]] = [
        {},
        {"vin": 17},
        {"vin": "X", "region": "mars"},
        {"vin": "X", "prefer_more_results": "yes"},
    ]
    for bad in bad_lookups:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, lookup)
    bad_builds: list[dict[str, object]] = [
        {"vin": "X", "limit": 0},
        {"vin": "X", "limit": 301},
        {"vin": "X", "offset": -1},
    ]
    for bad in bad_builds:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, build)
    assert build["properties"]["limit"]["default"] == 100
    for answer_schema in (tools["lookup_vin"].output_schema, tools["get_factory_build_data"].output_schema):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"status": "guessed", "vin": "X", "region": "au"}, answer_schema or {})


def test_compaction_keeps_meaning_and_drops_bulk() -> None:
    full = LookupAnswer.model_json_schema()
    small = compact_schema(full, output=True, loose=frozenset({"vin_decode"}))
    text = json.dumps(small)
    assert "$ref" not in text and "$defs" not in text and '"title": "' not in text and "anyOf" not in text
    # A property that happens to be called "title" is data, not a schema title.
    assert small["properties"]["vehicle"]["properties"]["title"] == {"type": "string"}
    assert small["properties"]["confidence"]["properties"]["level"]["enum"] == ["high", "medium", "low", "none"]
    assert small["properties"]["vin_decode"] == {"type": "object"}
    assert small["required"] == full["required"]
    assert len(text) < len(json.dumps(full)) / 2


def test_input_compaction_keeps_descriptions_and_real_defaults() -> None:
    schema = {
        "type": "object",
        "title": "Args",
        "properties": {
            "flag": {"type": "boolean", "default": False, "title": "Flag", "description": "On or off."},
            "limit": {"type": "integer", "default": 40, "minimum": 1},
            "tag": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}], "default": None},
        },
    }
    assert compact_schema(schema, output=False) == {
        "type": "object",
        "properties": {
            "flag": {"type": "boolean", "description": "On or off."},
            "limit": {"type": "integer", "default": 40, "minimum": 1},
            "tag": {"type": ["string", "null"], "maxLength": 5},  # a null argument is accepted: said so
        },
    }


def test_build_answer_schema_compacts_too() -> None:
    small = compact_schema(BuildDataAnswer.model_json_schema(), output=True)
    assert small["properties"]["codes"] == {"items": {"type": "string"}, "type": "array"}
    assert "description" not in json.dumps(small)


def test_shipped_output_schemas_are_the_answer_models_own() -> None:
    """The server publishes output schemas from a file, so that starting it builds no answer model; the file must
    say what the models say. Regenerate with VIN_MCP_UPDATE_GOLDEN=1."""
    derived = {model.__name__: model.model_json_schema() for model in (LookupAnswer, BuildDataAnswer)}
    if UPDATE:
        OUTPUT_SCHEMAS.write_text(json.dumps(derived, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert json.loads(OUTPUT_SCHEMAS.read_text()) == derived
