"""The sdist and wheel a release would publish: built with ``python -m build``, installed in a fresh venv, run."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

from tests.real_tools import ROOT, tool_env
from vin_mcp import __version__

pytestmark = pytest.mark.real_clients  # installs the dependencies from PyPI
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "dist", "version": "0"}},
    }
)


def test_sdist_and_wheel_build_install_and_run(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        env=tool_env(),
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob(f"vin_mcp-{__version__}-py3-none-any.whl")
    (sdist,) = dist.glob(f"vin_mcp-{__version__}.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    # The sdist carries what a rebuild needs, including the README that PyPI shows (and the registry reads).
    for needed in ("pyproject.toml", "README.md", "LICENSE", "vin_mcp/__init__.py"):
        assert f"vin_mcp-{__version__}/{needed}" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    command = env_dir / "bin" / "vin-mcp"
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.strip() == f"vin-mcp {__version__}"
    answer = subprocess.run(
        [str(command)], input=INITIALIZE + "\n", capture_output=True, text=True, timeout=60, env=tool_env()
    )
    assert json.loads(answer.stdout.splitlines()[0])["result"]["serverInfo"]["name"] == "vin-mcp"
