"""The manifest, pyproject and server metadata stay in step."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import connect
from vin_mcp.settings import Settings

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.anyio


async def test_manifest_matches_package_and_server() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert manifest["name"] == project["name"]
    assert manifest["version"] == project["version"]
    assert manifest["user_config"]["api_key"]["sensitive"] is True
    assert manifest["server"]["mcp_config"]["env"]["AUTOGRAB_API_KEY"] == "${user_config.api_key}"
    async with connect(Settings()) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        info = client.server_info
    assert {tool["name"] for tool in manifest["tools"]} == tools
    assert info is not None and info.name == project["name"] and info.version == project["version"]
