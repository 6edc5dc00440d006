"""The layers of docs/development.md's table: each folder imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "vin_mcp"
SHARED = {"vin_mcp", "vin_mcp.errors", "vin_mcp.settings"}
# layer -> the vin_mcp modules (prefixes) it may import, besides itself and SHARED
ALLOWED = {
    "vin_mcp.vin": set(),
    "vin_mcp.autograb": {"vin_mcp.vin"},
    "vin_mcp.answers": {"vin_mcp.vin", "vin_mcp.autograb.payloads"},
    "vin_mcp.cache": set(),
    # The Redis store fills the cache's and the pacer's shared-state protocols, and cleans what it reads again.
    "vin_mcp.shared_store": {"vin_mcp.cache", "vin_mcp.autograb.text"},
    "vin_mcp.service": {"vin_mcp.vin", "vin_mcp.autograb", "vin_mcp.answers", "vin_mcp.cache", "vin_mcp.shared_store"},
    "vin_mcp.redaction": set(),
    # The lookup's arguments travel as one model, defined where the vendor request is made.
    "vin_mcp.mcp_server": {
        "vin_mcp.service",
        "vin_mcp.answers",
        "vin_mcp.redaction",
        "vin_mcp.autograb.lookup_request",
        "vin_mcp.vin.identifiers",
    },
    "vin_mcp.cli": {
        "vin_mcp.service",
        "vin_mcp.answers",
        "vin_mcp.redaction",
        "vin_mcp.mcp_server",
        "vin_mcp.autograb.lookup_request",
        "vin_mcp.vin.identifiers",
    },
}
NO_MCP = (
    "vin_mcp.vin",
    "vin_mcp.autograb",
    "vin_mcp.answers",
    "vin_mcp.cache",
    "vin_mcp.shared_store",
    "vin_mcp.service",
)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path: Path) -> None:
    name = module_name(path)
    layer = next((layer for layer in ALLOWED if name == layer or name.startswith(layer + ".")), None)
    if layer is None:  # the shared modules and the package's own __init__/__main__
        return
    ours = {module for module in imports(path) if module == "vin_mcp" or module.startswith("vin_mcp.")}
    allowed = ALLOWED[layer] | SHARED | {layer}
    wrong = {m for m in ours if not any(m == a or m.startswith(a + ".") for a in allowed)}
    assert wrong == set(), f"{name} imports {sorted(wrong)}"
    if layer in NO_MCP:
        assert not {m for m in imports(path) if m == "mcp" or m.startswith("mcp.")}, f"{name} imports the MCP SDK"
