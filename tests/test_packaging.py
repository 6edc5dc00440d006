"""The manifest, pyproject and the running server describe the same thing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from scripts import release_bundle
from tests.conftest import connect
from vin_mcp.settings import LOG_LEVELS, REGIONS, Settings

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.anyio


async def test_server_metadata_matches_pyproject_and_manifest() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    async with connect(Settings()) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        info = client.server_info
        instructions = client.instructions
    assert info is not None
    assert info.name == project["name"] == manifest["name"]
    assert info.version == project["version"] == manifest["version"]
    assert info.title == manifest["display_name"]
    assert info.website_url == manifest["homepage"] == project["urls"]["Homepage"]
    assert manifest["license"] == project["license"]
    assert manifest["author"]["name"] == project["authors"][0]["name"]
    assert {tool["name"] for tool in manifest["tools"]} == tools
    assert instructions is not None and "lookup_vin" in instructions


async def test_instructions_say_when_to_call_which_tool_and_how_to_read_confidence() -> None:
    from vin_mcp.mcp_server.server import INSTRUCTIONS, create_server

    assert create_server(Settings()).instructions == INSTRUCTIONS
    for words in (
        "lookup_vin",
        "get_factory_build_data",
        "'matched'",
        "'high'",
        "'unconfirmed'",
        "'candidates'",
        "'no_match'",
        "confirm",
        "never guess",
        "not confirmed fitted",
    ):
        assert words in INSTRUCTIONS


def test_manifest_user_config_matches_settings() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    fields = manifest["user_config"]
    env = manifest["server"]["mcp_config"]["env"]
    # The server works without a key (the offline decode): nothing is required.
    assert fields["api_key"]["sensitive"] is True
    assert not any(field.get("required") for field in fields.values())
    assert env == {
        "AUTOGRAB_API_KEY": "${user_config.api_key}",
        "AUTOGRAB_REGION": "${user_config.region}",
        "AUTOGRAB_TIMEOUT": "${user_config.timeout}",
        "AUTOGRAB_REFERENCE_ID": "${user_config.reference_id}",
        "VIN_MCP_LOG_LEVEL": "${user_config.log_level}",
    }
    # What a host passes for blank optional fields reads as unset, and the filled ones as given.
    settings = Settings.from_env({**env, "AUTOGRAB_REGION": "NZ"})
    assert settings.region == "nz" and settings.timeout == 10.0 and settings.reference_id is None
    assert settings.api_key is None and settings.log_level == "WARNING"
    # The same defaults and bounds as the settings, so the host never lets through what the server refuses.
    timeout = Settings.model_fields["timeout"]
    bounds = {type(m).__name__: m for m in timeout.metadata}
    assert fields["timeout"]["default"] == timeout.default
    assert (fields["timeout"]["min"], fields["timeout"]["max"]) == (bounds["Ge"].ge, bounds["Le"].le)
    assert fields["log_level"]["default"] == Settings.model_fields["log_level"].default
    assert fields["region"]["default"] == Settings.model_fields["region"].default
    assert all(region in fields["region"]["description"] for region in REGIONS)
    assert all(level in fields["log_level"]["description"] for level in LOG_LEVELS)


def test_every_json_snippet_in_the_readme_parses() -> None:
    import re

    blocks = re.findall(r"```json\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    assert len(blocks) >= 3  # Claude Desktop, Cursor, VS Code
    for block in blocks:
        config = json.loads(block)
        if "status" in config:  # an example answer (tests/test_golden.py checks those)
            continue
        servers = config.get("mcpServers") or config.get("servers")
        assert servers and all("command" in s or "url" in s for s in servers.values())


def test_no_module_shadows_the_standard_library() -> None:
    names = {path.stem for path in (ROOT / "vin_mcp").rglob("*.py")} | {
        path.name for path in (ROOT / "vin_mcp").iterdir() if path.is_dir() and (path / "__init__.py").exists()
    }
    assert names & sys.stdlib_module_names == set()


def test_the_package_main_runs_as_a_file() -> None:
    """``python vin_mcp/__main__.py`` puts vin_mcp/ first on sys.path: no module there may hide another."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "vin_mcp" / "__main__.py"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("vin-mcp "), done.stderr


# What a process does, and modules it must not have loaded by then (each costs start-up time or is optional).
NOT_LOADED = [
    # httpx (and its TLS set-up) waits for the first paid call (the SDK itself uses httpx2); the VIN tables for
    # the first decode, the answers layer and the question for the first call, the HTTP settings for the HTTP
    # transport or --help.
    (
        "import vin_mcp.cli.main\n"
        "from vin_mcp.mcp_server.server import create_server\n"
        "from vin_mcp.settings import Settings\n"
        "create_server(Settings())",
        [
            "httpx",
            "vininfo",
            "vin_mcp.answers.models",
            "vin_mcp.answers.render",
            "vin_mcp.mcp_server.questions",
            "vin_mcp.mcp_server.http_settings",
        ],
    ),
    # Redis only with VIN_MCP_REDIS_URL, even once a paid call has built the AutoGrab client.
    (
        "import anyio\n"
        "from pydantic import SecretStr\n"
        "from vin_mcp.service import open_service\n"
        "from vin_mcp.settings import Settings\n"
        "async def main():\n"
        "    async with open_service(Settings(api_key=SecretStr('sec_x'))) as service: service.client()\n"
        "anyio.run(main)",
        ["redis", "vin_mcp.shared_store"],
    ),
    # The JWT checks only in OAuth mode.
    (
        "from vin_mcp.mcp_server.http_transport import create_http_app\n"
        "from vin_mcp.mcp_server.http_settings import HttpSettings\n"
        "from vin_mcp.settings import Settings\n"
        "create_http_app(Settings(), HttpSettings())",
        ["jwt", "vin_mcp.mcp_server.oauth"],
    ),
]


@pytest.mark.parametrize(("code", "modules"), NOT_LOADED, ids=["server", "no-redis", "no-oauth"])
def test_optional_and_slow_modules_load_only_when_needed(code: str, modules: list[str]) -> None:
    check = f"{code}\nimport sys\nprint([m for m in {modules!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# A byte-for-byte copy of the MCP Registry's published schema; its SHA-256 is that of the live file.
REGISTRY_SCHEMA = ROOT / "tests" / "schemas" / "server.schema.2025-12-11.json"
REGISTRY_SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"


def registry_errors(document: object) -> list[str]:
    import jsonschema

    schema = json.loads(REGISTRY_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def test_server_json_is_valid_against_the_committed_registry_schema() -> None:
    assert hashlib.sha256(REGISTRY_SCHEMA.read_bytes()).hexdigest() == REGISTRY_SCHEMA_SHA256
    server = json.loads((ROOT / "server.json").read_text())
    assert server["$schema"] == json.loads(REGISTRY_SCHEMA.read_text())["$id"]
    assert registry_errors(server) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda s: s.update(description="x" * 101), "is too long"),
        (lambda s: s.update(name="vin-mcp"), "does not match"),
        (lambda s: s["packages"][-1].update(fileSha256="not-a-hash"), "does not match"),
        (lambda s: s["packages"][0].pop("transport"), "'transport' is a required property"),
        (lambda s: s["remotes"][0].update(url="ftp://example.com/mcp"), "is not valid under any of the given schemas"),
    ],
)
def test_the_registry_schema_copy_refuses_what_the_registry_refuses(change: Any, complaint: str) -> None:
    server = json.loads((ROOT / "server.json").read_text())
    change(server)
    assert any(complaint in error for error in registry_errors(server))


def test_server_json_describes_this_package_for_the_mcp_registry() -> None:
    """server.json (MCP Registry): the rules the schema only describes, and agreement with the project."""
    import re

    server = json.loads((ROOT / "server.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert len(server["title"]) <= 100
    # The registry checks ownership by finding this line in the README that PyPI publishes.
    assert f"mcp-name: {server['name']}" in (ROOT / "README.md").read_text()
    assert server["version"] == project["version"]
    package, bundle = server["packages"]
    assert bundle["registryType"] == "mcpb" and bundle["version"] == project["version"]
    assert bundle["identifier"] == release_bundle.RELEASE_URL.format(version=project["version"])
    assert package["registryType"] == "pypi" and package["identifier"] == project["name"]
    assert package["version"] == project["version"] and package["transport"] == {"type": "stdio"}
    variables = {variable["name"]: variable for variable in package["environmentVariables"]}
    assert set(variables) <= {alias for alias, _ in Settings.variables()}
    assert variables["AUTOGRAB_API_KEY"]["isSecret"] is True and variables["AUTOGRAB_API_KEY"]["isRequired"] is False
    assert variables["AUTOGRAB_REGION"]["choices"] == list(REGIONS)
    assert variables["VIN_MCP_LOG_LEVEL"]["choices"] == list(LOG_LEVELS)
    (remote,) = server["remotes"]
    assert remote["type"] == "streamable-http" and remote["url"].endswith("/mcp")
    assert re.fullmatch(r"https?://\S+|\{[a-zA-Z_]\w*\}\S*", remote["url"])
    (auth,) = remote["headers"]
    assert auth["name"] == "Authorization" and auth["isSecret"] is True
