"""The command line: ``vin-mcp`` (serve over stdio or HTTP) and the ``lookup``/``build-data`` commands."""
