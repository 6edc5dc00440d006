"""Every stdio client snippet in the README, started exactly as written (paths substituted), lists the tools.

The placeholders become this clone (``/ABSOLUTE/PATH/TO/vin-mcp``), this venv's uv and uvx, and the git URL
this clone (``git+file://``): what a user pastes is what runs. Windows forms are checked for shape only.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.real_tools import ROOT, tool_env, which

pytestmark = [pytest.mark.anyio, pytest.mark.real_clients]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLONE = "/ABSOLUTE/PATH/TO/vin-mcp"
GIT_URL = "git+https://github.com/vin-mcp/vin-mcp"


def snippets() -> list[tuple[str, str, list[str]]]:
    """(where, command, args) for every stdio server in the README's JSON blocks and `claude mcp add` lines."""
    found: list[tuple[str, str, list[str]]] = []
    for block in re.findall(r"```json\n(.*?)```", README, flags=re.DOTALL):
        config: dict[str, Any] = json.loads(block)
        servers = config.get("mcpServers") or config.get("servers") or {}
        for name, server in servers.items():
            if "command" in server:
                found.append((f"json:{name}:{server['command']}", server["command"], server.get("args", [])))
    for line in re.findall(r"^claude mcp add (?!--transport).*$", README, flags=re.MULTILINE):
        words = shlex.split(line)
        command, *args = words[words.index("--") + 1 :]
        found.append(("claude mcp add", command, args))
    return found


SNIPPETS = snippets()


def test_the_readme_shows_every_install_path_for_every_client() -> None:
    commands = [command for _, command, _ in SNIPPETS]
    assert f"{CLONE}/.venv/bin/vin-mcp" in commands  # a clone installed with pip
    assert any(command.endswith("\\Scripts\\vin-mcp.exe") for command in commands)  # the same on Windows
    assert "/ABSOLUTE/PATH/TO/uv" in commands and "/ABSOLUTE/PATH/TO/uvx" in commands  # uv, git
    assert all(command.startswith(("/ABSOLUTE/PATH/TO/", "C:\\")) for command in commands)  # never a bare name
    assert "@v0.1.0" not in README  # no tag that does not exist
    for _, _, args in SNIPPETS:
        assert all(not arg.startswith("git+") or arg == GIT_URL for arg in args)


def runnable(command: str, args: list[str], scratch: Path) -> tuple[str, list[str], dict[str, str]]:
    venv = Path(sys.prefix)  # the venv running the tests: the README's own, or whichever the caller uses
    # uv must not touch the venv the tests run in: it gets its own project environment and tool directory.
    env = tool_env(UV_PROJECT_ENVIRONMENT=str(scratch / "project-venv"), UV_TOOL_DIR=str(scratch / "tools"))

    def place(text: str) -> str:
        text = text.replace(f"{CLONE}/.venv", str(venv)).replace(CLONE, str(ROOT))
        text = text.replace("/ABSOLUTE/PATH/TO/uvx", which("uvx")).replace("/ABSOLUTE/PATH/TO/uv", which("uv"))
        return text.replace(GIT_URL, f"git+{ROOT.as_uri()}")

    return place(command), [place(arg) for arg in args], env


@pytest.mark.parametrize(
    ("where", "command", "args"), [s for s in SNIPPETS if not s[1].startswith("C:\\")], ids=lambda v: str(v)[:40]
)
async def test_each_snippet_starts_the_server(where: str, command: str, args: list[str], tmp_path: Path) -> None:
    if "git+" in " ".join(args) and not (ROOT / ".git").exists():
        pytest.skip("not a git clone: the git form has nothing to fetch")
    program, arguments, env = runnable(command, args, tmp_path)
    async with Client(StdioServerParameters(command=program, args=arguments, env=env)) as client:
        tools = await client.list_tools()
        offline = await client.call_tool("lookup_vin", {"vin": "1HGCM82633A004352"})
    assert {tool.name for tool in tools.tools} == {"lookup_vin", "lookup_registration", "get_factory_build_data"}, where
    assert offline.structured_content and offline.structured_content["status"] == "vin_decode_only"
