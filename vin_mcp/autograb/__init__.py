"""The AutoGrab v2 vendor: the HTTP client (retries, pacing, error mapping) and the payload models that
clean their own text. Knows nothing of MCP."""

from vin_mcp.autograb.client import AutoGrabClient
from vin_mcp.autograb.payloads import BuildDataResponse, VinSearchResponse

__all__ = ["AutoGrabClient", "BuildDataResponse", "VinSearchResponse"]
