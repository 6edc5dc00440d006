"""``vin-mcp``: start the MCP server (stdio by default)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .errors import ConfigurationError
from .settings import Settings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="vin-mcp",
        description="MCP server that identifies vehicles from VINs (AutoGrab v2 + offline VIN decoding). "
        "Configure with AUTOGRAB_API_KEY, AUTOGRAB_REGION, AUTOGRAB_BASE_URL, AUTOGRAB_TIMEOUT, "
        "AUTOGRAB_REFERENCE_ID, VIN_MCP_CACHE_TTL.",
    )
    parser.add_argument("--version", action="version", version=f"vin-mcp {__version__}")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)

    # stdout belongs to the MCP protocol: every log line goes to stderr.
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        print(f"vin-mcp: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    from .server import create_server  # deferred: the SDK import is most of the start-up time

    create_server(settings).run()
