"""Golden answers: a change to what the assistant reads shows up as a reviewed diff.

Regenerate after an intended change with `VIN_MCP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings

pytestmark = pytest.mark.anyio
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("VIN_MCP_UPDATE_GOLDEN") == "1"

CASES: dict[str, tuple[str, dict[str, Any], bool]] = {
    "rich_match": ("lookup_vin", {"vin": fa.RICH}, True),
    "reduced": ("lookup_vin", {"vin": fa.REDUCED}, True),
    "candidates": ("lookup_vin", {"vin": fa.CANDIDATES, "prefer_more_results": True}, True),
    "written_off": ("lookup_vin", {"vin": fa.WRITTEN_OFF}, True),
    "no_match": ("lookup_vin", {"vin": fa.NO_MATCH_NULL}, True),
    "contradicted": ("lookup_vin", {"vin": fa.CONTRADICTED}, True),
    "extended": ("lookup_vin", {"vin": fa.EXTENDED, "include_extended_data": True}, True),
    "offline": ("lookup_vin", {"vin": "1HGCM82633A004352"}, False),
    "build_data_page": ("get_factory_build_data", {"vin": fa.BUILD, "limit": 10}, True),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_golden_answer(fake: fa.FakeAutoGrab, name: str) -> None:
    tool, arguments, with_key = CASES[name]
    settings = make_settings(fake) if with_key else make_settings(fake, api_key=None)
    async with connect(settings) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    structured = dict(result.structured_content or {})
    rendered = json.dumps(structured, indent=2, ensure_ascii=False) + "\n"
    text_file, json_file = GOLDEN / f"{name}.txt", GOLDEN / f"{name}.json"
    if UPDATE:
        text_file.write_text(text + "\n", encoding="utf-8")
        json_file.write_text(rendered, encoding="utf-8")
    assert text + "\n" == text_file.read_text(encoding="utf-8")
    assert rendered == json_file.read_text(encoding="utf-8")
