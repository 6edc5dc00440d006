"""vin-mcp: identify a vehicle from its VIN over MCP (AutoGrab v2 plus offline VIN decoding)."""

# Kept equal to pyproject.toml's version by tests/test_packaging.py. A literal, not importlib.metadata:
# that import and its scan of installed distributions cost about 30 ms of every start.
__version__ = "0.1.0"

__all__ = ["__version__"]
