"""vin-mcp: identify a vehicle from its VIN over MCP (AutoGrab v2 plus offline VIN decoding)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vin-mcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
