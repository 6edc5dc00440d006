"""The AutoGrab client's fixed numbers, each with its reason."""

from __future__ import annotations

from vin_mcp import __version__

# Two retries turn a passing 5xx or refused connection into a success without tripling the
# bill or the wait; more rarely helps a service that is really down.
MAX_RETRIES = 2
# Jittered exponential backoff: 0.5 s then 1 s (each +/-50 %), so many desks retrying at once
# do not arrive together.
BACKOFF_BASE_SECONDS = 0.5
# A call waits for the rate-limit window at most this often and this long each time; beyond that the
# assistant should hear when to retry instead.
MAX_RATE_LIMIT_WAITS = 2
MAX_RATE_LIMIT_WAIT_SECONDS = 5.0
# All retries and waits of one call fit in this budget, well under the 60 s after which MCP
# clients commonly give up on a request.
RETRY_BUDGET_SECONDS = 25.0
# Real answers are tens of kilobytes; anything this large is not an answer, and reading (or
# decompressing) it all would let a broken proxy exhaust memory.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Bodies larger than this (real answers are a few KiB to tens of KiB) are decoded in a worker thread.
OFF_LOOP_BYTES = 64 * 1024
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
USER_AGENT = f"vin-mcp/{__version__}"
# Sent only by vin-mcp's own fake of the API when run for people to try (python -m tests.fake_autograb).
TEST_DATA_HEADER = "X-Vin-Mcp-Test-Data"
