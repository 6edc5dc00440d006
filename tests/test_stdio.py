"""The real server process over stdio: `python -m vin_mcp`, driven by the SDK's stdio client."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mcp import Client, StdioServerParameters

from tests import fake_autograb as fa

pytestmark = pytest.mark.anyio


def server_params(env: dict[str, str]) -> StdioServerParameters:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    return StdioServerParameters(command=sys.executable, args=["-m", "vin_mcp"], env={**base, **env})


async def test_stdio_server_answers_lookups(fake: fa.FakeAutoGrab) -> None:
    env = {"AUTOGRAB_API_KEY": fa.API_KEY, "AUTOGRAB_BASE_URL": fake.url, "AUTOGRAB_REGION": "nz"}
    async with Client(server_params(env)) as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} == {"lookup_vin", "lookup_registration", "get_factory_build_data"}
        result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
        assert not result.is_error
        assert result.structured_content["vehicle"]["model"] == "Polo"
        refused = await client.call_tool("lookup_vin", {"vin": "1HGCM8263OA004352"})
        assert refused.is_error
        failed = await client.call_tool("lookup_vin", {"vin": fa.FAULTS["401"]})
        assert failed.is_error and "AUTOGRAB_API_KEY" in failed.content[0].text  # type: ignore[union-attr]
        again = await client.call_tool("lookup_vin", {"vin": fa.POLO})
        assert not again.is_error
    assert fake.calls()[0].query["region"] == "nz"
    assert len(fake.calls(fa.POLO)) == 1  # the second lookup came from the cache


async def test_stdio_server_without_key_decodes_offline() -> None:
    async with Client(server_params({})) as client:
        result = await client.call_tool("lookup_vin", {"vin": "1HGCM82633A004352"})
    assert not result.is_error
    assert result.structured_content["status"] == "vin_decode_only"


def test_starting_the_server_builds_no_answer_model() -> None:
    """Answer models are built on their first use (the first tool call), not while the server starts."""
    code = (
        "from vin_mcp.settings import Settings\n"
        "from vin_mcp.mcp_server.server import create_server\n"
        "from vin_mcp.answers import models\n"
        "create_server(Settings())\n"
        "built = [name for name in ('LookupAnswer', 'BuildDataAnswer', 'LookupFacts', 'Vehicle')\n"
        "         if getattr(models, name).__pydantic_complete__]\n"
        "print(built)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip() == "[]"
