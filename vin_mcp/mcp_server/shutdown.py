"""SIGTERM, the same on stdio and HTTP: one bound (``VIN_MCP_SHUTDOWN_SECONDS``) for everything in flight.

New calls are answered "shutting down" at once; calls in flight get the bound to finish; those still waiting
then are answered "shutting down" too (a tool error the assistant can relay, never a dropped connection or a
traceback), and the process exits with status 0.
"""

from __future__ import annotations

import logging

from vin_mcp.service import VinService

logger = logging.getLogger(__name__)

# After giving up on the calls still in flight, what their error answers may take to be produced.
ANSWER_SECONDS = 1.0


async def wind_down(service: VinService | None, seconds: float) -> None:
    if service is None:
        return
    service.begin_shutdown()
    if await service.drained(seconds):
        return
    count = service.give_up()
    logger.warning(
        "Shutting down: %d call%s still waiting after %g s answered 'server shutting down'",
        count,
        "" if count == 1 else "s",
        seconds,
    )
    await service.drained(ANSWER_SECONDS)
