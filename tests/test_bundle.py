"""The MCP Bundle, checked by the official MCPB CLI, packed, unpacked and started as a desktop host would."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from scripts import release_bundle
from tests import fake_autograb as fa
from tests.real_tools import MCPB, ROOT, npx, tool_env, which

pytestmark = pytest.mark.real_clients
# The card (17 KB of HTML) and the dev tools in uv.lock (Playwright) took it past 256 KiB; a host still installs
# from pyproject.toml with uv, so the bundle stays source only.
MAX_BUNDLE_BYTES = 320 * 1024
HOST_FILES = {"manifest.json", "pyproject.toml", "uv.lock", "README.md", "LICENSE", "vin_mcp/__main__.py"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle a release publishes (scripts/release_bundle.py: the official CLI's pack, made reproducible)."""
    return release_bundle.build(tmp_path_factory.mktemp("bundle"))


def test_server_json_names_the_bundle_this_tree_builds(bundle: Path, tmp_path: Path) -> None:
    """The registry entry's SHA-256 is the bundle's, and building again gives the same bytes."""
    (entry,) = [p for p in json.loads((ROOT / "server.json").read_text())["packages"] if p["registryType"] == "mcpb"]
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert entry["fileSha256"] == digest, "server.json names another bundle: run python scripts/release_bundle.py"
    assert hashlib.sha256(release_bundle.build(tmp_path).read_bytes()).hexdigest() == digest


def test_manifest_passes_the_official_validator() -> None:
    done = npx(MCPB, "validate", "manifest.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation passes" in done.stdout


def test_bundle_is_small_and_holds_only_what_a_host_needs(bundle: Path) -> None:
    names = set(zipfile.ZipFile(bundle).namelist())
    assert names >= HOST_FILES
    assert {n for n in names if n.startswith("vin_mcp/") and n.endswith(".py")} == {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "vin_mcp").rglob("*.py")
    }
    leaked = [n for n in names if re.match(r"(tests|bench|\.venv|\.git|\.ci)/", n) or "__pycache__" in n]
    assert leaked == []
    assert bundle.stat().st_size < MAX_BUNDLE_BYTES


def test_lockfile_matches_pyproject() -> None:
    done = subprocess.run(
        [which("uv"), "lock", "--check"], cwd=ROOT, env=tool_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, "uv.lock is stale: run `uv lock`\n" + done.stderr


def _host_substitute(value: str, directory: Path, user_config: dict[str, str]) -> str:
    """What a host does with mcp_config: fill ${__dirname} and the fields the user filled; leave the rest."""
    value = value.replace("${__dirname}", str(directory))
    return re.sub(r"\$\{user_config\.(\w+)\}", lambda m: user_config.get(m.group(1), m.group(0)), value)


@pytest.mark.anyio
async def test_unpacked_bundle_starts_as_the_manifest_says_and_answers(
    bundle: Path, tmp_path: Path, fake: fa.FakeAutoGrab
) -> None:
    unpacked = tmp_path / "installed"
    zipfile.ZipFile(bundle).extractall(unpacked)
    config = json.loads((unpacked / "manifest.json").read_text())["server"]["mcp_config"]
    # The user filled the key and the region; timeout and usage tag stay blank (passed through literally).
    filled = {"api_key": fa.API_KEY, "region": "nz"}
    env = {name: _host_substitute(value, unpacked, filled) for name, value in config["env"].items()}
    assert env["AUTOGRAB_TIMEOUT"] == "${user_config.timeout}"
    server = StdioServerParameters(
        command=which(config["command"]),
        args=[_host_substitute(arg, unpacked, filled) for arg in config["args"]],
        env=tool_env(**env, AUTOGRAB_BASE_URL=fake.url),
    )
    async with Client(server) as client:
        tools = await client.list_tools()
        result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
    assert {t.name for t in tools.tools} == {"lookup_vin", "lookup_registration", "get_factory_build_data"}
    assert not result.is_error
    assert (result.structured_content or {})["vehicle"]["model"] == "Polo"
    assert fake.calls(fa.POLO)[0].query["region"] == "nz"
    assert (unpacked / ".venv").is_dir()  # uv built the environment from the bundle's own lockfile
