"""Build the MCP Bundle a release publishes, byte for byte the same from the same tree, and stamp server.json.

    python scripts/release_bundle.py           # dist/vin-mcp-<version>.mcpb, and server.json's mcpb entry
    python scripts/release_bundle.py --check   # exit 1 when server.json does not name that bundle

The MCP Registry asks for the bundle's SHA-256 (`fileSha256`), so the bundle must come out the same on
every machine: the official CLI packs it (its validation and `.mcpbignore`), then the entries are
written again in name order with a fixed date and mode.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Pinned so a new release of the CLI cannot change the bundle without a commit here (the tests use it too).
MCPB = "@anthropic-ai/mcpb@2.1.2"
RELEASE_URL = "https://github.com/vin-mcp/vin-mcp/releases/download/v{version}/vin-mcp-{version}.mcpb"
# The earliest date a zip entry can hold: no build's clock leaks into the file.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def version() -> str:
    return str(json.loads((ROOT / "manifest.json").read_text())["version"])


def normalise(packed: Path, out: Path) -> None:
    with zipfile.ZipFile(packed) as source, zipfile.ZipFile(out, "w") as target:
        for name in sorted(n for n in source.namelist() if not n.endswith("/")):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            target.writestr(info, source.read(name), compresslevel=9)


def build(out_dir: Path) -> Path:
    npx = shutil.which("npx", path=str(Path(sys.executable).parent)) or shutil.which("npx")
    if npx is None:
        raise SystemExit("npx not found: install the dev extra (pip install -e '.[dev]'), which brings Node")
    out = out_dir / f"vin-mcp-{version()}.mcpb"
    with tempfile.TemporaryDirectory() as scratch:
        packed = Path(scratch) / "packed.mcpb"
        done = subprocess.run(
            [npx, "-y", MCPB, "pack", str(ROOT), str(packed)], capture_output=True, text=True, cwd=ROOT, timeout=300
        )
        if done.returncode != 0:
            raise SystemExit(f"mcpb pack failed:\n{done.stdout}{done.stderr}")
        normalise(packed, out)
    return out


def mcpb_entry(bundle: Path) -> dict[str, Any]:
    return {
        "registryType": "mcpb",
        "identifier": RELEASE_URL.format(version=version()),
        "version": version(),
        "fileSha256": hashlib.sha256(bundle.read_bytes()).hexdigest(),
        "transport": {"type": "stdio"},
    }


def stamped(server: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    others = [p for p in server.get("packages", []) if p.get("registryType") != "mcpb"]
    return {**server, "packages": [*others, entry]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only say whether server.json names this bundle")
    args = parser.parse_args(argv)
    path = ROOT / "server.json"
    server = json.loads(path.read_text())
    out_dir = ROOT / "dist"
    out_dir.mkdir(exist_ok=True)
    bundle = build(out_dir)
    want = stamped(server, mcpb_entry(bundle))
    if args.check:
        if want != server:
            print("server.json does not name this tree's bundle: run python scripts/release_bundle.py", file=sys.stderr)
            return 1
        print(f"server.json names {bundle.name} (sha256 {want['packages'][-1]['fileSha256'][:12]}…)")
        return 0
    path.write_text(json.dumps(want, indent=2, ensure_ascii=False) + "\n")
    print(f"{bundle} written; server.json stamped with its sha256")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
