"""The AutoGrab v2 vendor: ``client`` (HTTP, retries, pacing, error mapping), ``payloads`` (vendor models that
clean their own text), ``requests`` (what a search asks for). Knows nothing of MCP.

Nothing is imported here: the payload models are needed at start-up, httpx only on the first paid call.
"""
