"""Golden answers: a change to what the assistant reads shows up as a reviewed diff.

Regenerate after an intended change with `VIN_MCP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from tests import fake_autograb as fa
from tests.conftest import make_settings
from vin_mcp.mcp_server.server import create_server

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
    "build_data_none": ("get_factory_build_data", {"vin": fa.BUILD_UNSUPPORTED}, True),
    "build_data_not_covered": ("get_factory_build_data", {"vin": fa.MAKE_MISMATCH}, True),
    "user_picked": ("lookup_vin", {"vin": fa.CANDIDATES}, True),
    "user_none_fit": ("lookup_vin", {"vin": fa.CANDIDATES}, True),
    "user_rejected": ("lookup_vin", {"vin": fa.REDUCED}, True),
    "user_confirmed_vin_disagrees": ("lookup_vin", {"vin": fa.CONTRADICTED}, True),
    # The same kinds of answer for a registration plate (the fake's plates answer as the VIN each names).
    "plate_sure": ("lookup_registration", {"plate": "REG4SUCCESS", "state": "vic"}, True),
    "plate_ev": ("lookup_registration", {"plate": "REG4 SUCCESS-EV", "state": "NSW"}, True),
    "plate_reduced": ("lookup_registration", {"plate": "REG4WARNING", "state": "QLD"}, True),
    "plate_candidates": ("lookup_registration", {"plate": "CAND1", "state": "SA", "prefer_more_results": True}, True),
    "plate_no_match": ("lookup_registration", {"plate": "REG4NOMATCH", "state": "WA"}, True),
    "plate_vin_only": ("lookup_registration", {"plate": "REG4VINONLY", "state": "TAS"}, True),
    "plate_written_off": ("lookup_registration", {"plate": "WOFF1", "state": "ACT"}, True),
    "plate_extended": ("lookup_registration", {"plate": "EXT1", "state": "NT", "include_extended_data": True}, True),
}
PLATE_GOLDENS = sorted(name for name in CASES if name.startswith("plate_"))
# What the person answers when the client asks them (elicitation).
REPLIES = {"user_picked": "2", "user_none_fit": "none", "user_rejected": "no", "user_confirmed_vin_disagrees": "yes"}


class Reply:
    """An elicitation callback: the person picks ``choice``."""

    def __init__(self, choice: str) -> None:
        self.choice = choice

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"choice": self.choice})


@pytest.mark.parametrize("name", sorted(CASES))
async def test_golden_answer(fake: fa.FakeAutoGrab, name: str) -> None:
    tool, arguments, with_key = CASES[name]
    settings = make_settings(fake) if with_key else make_settings(fake, api_key=None)
    person = Reply(REPLIES[name]) if name in REPLIES else None
    async with Client(create_server(settings), elicitation_callback=person) as client:
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


# How the text says each status (the structured answer says it as the value).
STATUS_IN_TEXT = {
    "matched": "matched, confidence",
    "unconfirmed": "UNCONFIRMED match",
    "candidates": "several possible vehicles",
    "no_match": "NO MATCH",
    "vin_decode_only": "offline VIN decode only",
    "user_confirmed": "confirmed by the user",
    "found": "factory option codes",
    "not_available": "no factory build data",
}


def leaves(data: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in leaves(value, f"{path}.{key}")]
    if isinstance(data, list):
        return [leaf for value in data for leaf in leaves(value, path)]
    return [(path, data)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_text_states_every_fact_of_the_structured_answer(name: str) -> None:
    """An assistant that reads only the text learns everything one reading only structuredContent does."""
    text = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").replace('\\"', '"')
    structured = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    missing = []
    for path, value in leaves(structured):
        if path == ".status":
            wanted = STATUS_IN_TEXT[value]
        elif path == ".region":
            wanted = f"({value.upper()})"
        elif path == ".confidence.level":
            wanted = f"confidence {value}"
        elif path == ".codes":  # "code: description", each a line of its own
            wanted = f"\n{value}\n"
        else:
            wanted = str(value)
        if wanted not in text:
            missing.append((path, wanted))
    assert missing == []
    # Every kind of answer carries its advice (lookups) or its note (build data) in both channels.
    if "confidence" in structured:
        assert f"Advice: {structured['confidence']['advice']}" in text
    else:
        assert structured["note"] and structured["note"] in text


def test_the_readme_examples_are_real_answers() -> None:
    """Every answer line the README shows is a line of a golden answer (a shortened one up to its '…')."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    texts = "\n".join(path.read_text(encoding="utf-8") for path in GOLDEN.glob("*.txt"))
    lines = [line for block in re.findall(r"```text\n(.*?)```", readme, flags=re.DOTALL) for line in block.splitlines()]
    assert len(lines) >= 10
    for line in lines:
        if line != "…":
            assert line.split("…")[0] in texts, line
    answers = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", readme, flags=re.DOTALL)]
    shown = [answer for answer in answers if "status" in answer]
    goldens = [json.loads(path.read_text(encoding="utf-8")) for path in GOLDEN.glob("*.json")]
    assert shown and all(answer in goldens for answer in shown)
