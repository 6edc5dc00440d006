"""The stdio transport, with SIGTERM handled as on HTTP (``shutdown.wind_down``): calls in flight are answered
within the bound, then the process exits 0.

stdin and stdout are read and written on the event loop when both are pipes (``stdio_pipes``); otherwise the SDK
reads stdin in a worker thread that no cancellation can stop (it waits for a line). Either way, once the answers
are written the process leaves with ``os._exit``, as it does on Ctrl-C in a terminal.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, cast

import anyio
from mcp.server.stdio import stdio_server

from vin_mcp.mcp_server.server import VinMcpServer
from vin_mcp.mcp_server.shutdown import wind_down
from vin_mcp.mcp_server.stdio_pipes import pipe_streams, restore_blocking

# What the SDK's writer task is given to put the last answers on stdout.
FLUSH_SECONDS = 0.2


def serve_stdio(server: VinMcpServer, shutdown_seconds: float) -> None:
    anyio.run(_serve, server, shutdown_seconds)


async def _serve(server: VinMcpServer, shutdown_seconds: float) -> None:
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_on_sigterm, server, shutdown_seconds)
        with pipe_streams() as pipes:
            if pipes is None:
                await server.run_stdio_async()
            else:
                # The SDK's run_stdio_async with our streams; it offers no public way to pass them in.
                stdin, stdout = (cast(anyio.AsyncFile[Any], stream) for stream in pipes)
                async with stdio_server(stdin, stdout) as (read_stream, write_stream):
                    lowlevel = server._lowlevel_server
                    await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        tasks.cancel_scope.cancel()


async def _on_sigterm(server: VinMcpServer, shutdown_seconds: float) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            break
    await wind_down(server.service, shutdown_seconds)
    await anyio.sleep(FLUSH_SECONDS)
    sys.stdout.flush()
    sys.stderr.flush()
    restore_blocking()
    os._exit(0)
