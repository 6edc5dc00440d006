"""The rate-limit header rules as a table: what each header value means for the wait (issue 9, point 1)."""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from vin_mcp.autograb.pacing import MAX_WAIT_SECONDS, MIN_WAIT_SECONDS, header_wait, window_used_up

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({}, None),
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "0"}, MIN_WAIT_SECONDS),
        ({"Retry-After": "0.2"}, MIN_WAIT_SECONDS),
        ({"Retry-After": "120"}, MAX_WAIT_SECONDS),
        ({"Retry-After": "3600"}, MAX_WAIT_SECONDS),
        ({"Retry-After": "3601"}, None),  # absurd for a per-second limit: junk
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "1e999"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, None),
        ({"Retry-After": "Mon, 99 Foo 2026 99:99:99 GMT"}, None),
        ({"Rate-Limit-Reset": str(int(NOW + 3))}, 3.0),
        ({"Rate-Limit-Reset": "4"}, 4.0),  # a small number is a delay, not an epoch
        ({"Rate-Limit-Reset": "99999999999"}, None),
        ({"Rate-Limit-Reset": str(int(NOW - 10))}, None),
        ({"Rate-Limit-Reset": "inf"}, None),
        ({"Retry-After": "soon", "Rate-Limit-Reset": "2"}, 2.0),  # junk first header: the next one counts
    ],
)
def test_header_wait(headers: dict[str, str], wait: float | None) -> None:
    got = header_wait(httpx.Headers(headers), NOW)
    assert got == (None if wait is None else pytest.approx(wait, abs=0.01))


@pytest.mark.parametrize(
    ("remaining", "used_up"), [("0", True), ("-1", True), ("3", False), ("nan", False), ("x", False), (None, False)]
)
def test_window_used_up(remaining: str | None, used_up: bool) -> None:
    headers = httpx.Headers({} if remaining is None else {"Rate-Limit-Remaining": remaining})
    assert window_used_up(headers) is used_up
