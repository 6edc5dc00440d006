"""Running the official npm tools (via the Node that the dev extra installs) and uv from the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.release_bundle import MCPB as MCPB

ROOT = Path(__file__).parent.parent
# Pinned so a new release of a tool cannot change what CI checks without a commit here.
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16"


def tool_env(**extra: str) -> dict[str, str]:
    """This venv's bin first on PATH (its Node 24, npx and uv), and no vin-mcp settings leaking in."""
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("npm_config_fund", "false")
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra)
    return env


def which(name: str) -> str:
    found = shutil.which(name, path=tool_env()["PATH"])
    if found is None:
        raise AssertionError(f"{name} not found: install the dev extra (pip install -e '.[dev]')")
    return found


def npx(package: str, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [which("npx"), "-y", package, *args],
        env=tool_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
