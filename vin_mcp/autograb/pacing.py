"""AutoGrab's rate limit, as learned from its answers and shared by every call of the process.

The limit is per second. A 429, or an answer saying no requests remain, closes the window until the
time its headers give (``Retry-After`` first, then ``Rate-Limit-Reset``), clamped to 1-60 s; a header
that is missing, malformed, negative, NaN, infinite or absurd counts as absent, and then the window
closes for the minimum. While it is closed no call sends; when it reopens one call goes first (the
probe) and the others wait for its answer, so a crowd sends about one request per reopening rather
than one per caller. With a ``SharedWindow`` (Redis, for replicas) a window one replica closes is
closed for all of them, clamped the same way; when the store fails, each replica keeps its own view.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import anyio

if TYPE_CHECKING:
    import httpx

# Never retry sooner than the per-second window can have reset...
MIN_WAIT_SECONDS = 1.0
# ...and never let one header close the window for longer than this.
MAX_WAIT_SECONDS = 60.0
# A reset further away than this is not a per-second window: the header is junk, treat it as absent.
ABSURD_WAIT_SECONDS = 3_600.0
# Documented as Unix epoch seconds; a smaller number can only be a delay in seconds.
EPOCH_THRESHOLD = 1_000_000_000

Sleep = Callable[[float], Awaitable[None]]


# ASCII digits only: float() would also read "1_0" and Arabic-Indic digits, which no HTTP header carries.
_DECIMAL = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,9})?")


def _number(raw: str | None) -> float | None:
    """A header's decimal number; anything else (malformed, non-ASCII digits, NaN, inf) counts as absent."""
    if raw is None or not _DECIMAL.fullmatch(raw.strip(" \t")):
        return None
    value = float(raw.strip(" \t"))
    return value if math.isfinite(value) else None


def _delay(value: float | None, now: float) -> float | None:
    """Seconds from now, for a header that is a delay or an epoch; None when it is not usable."""
    if value is None:
        return None
    delay = value - now if value > EPOCH_THRESHOLD else value
    return delay if 0 <= delay <= ABSURD_WAIT_SECONDS else None


def _retry_after(raw: str | None, now: float) -> float | None:
    if raw is None or not raw.isascii():
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds if 0 <= seconds <= ABSURD_WAIT_SECONDS else None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return _delay(when.timestamp(), now) if when.timestamp() > EPOCH_THRESHOLD else None


def header_wait(headers: httpx.Headers, now: float) -> float | None:
    """The wait the headers ask for, clamped to [MIN, MAX]; None when no header gives a usable one."""
    wait = _retry_after(headers.get("retry-after"), now)
    if wait is None:
        wait = _delay(_number(headers.get("rate-limit-reset")), now)
    return None if wait is None else min(max(wait, MIN_WAIT_SECONDS), MAX_WAIT_SECONDS)


def window_used_up(headers: httpx.Headers) -> bool:
    remaining = _number(headers.get("rate-limit-remaining"))
    return remaining is not None and remaining <= 0


class SharedWindow(Protocol):
    """The window as every replica sees it (wall-clock seconds); failures are the store's to log."""

    async def window_reopens_at(self) -> float | None: ...

    async def close_window_until(self, reopens_at: float) -> None: ...


@dataclass
class Refusal:
    """Why a call may not send now, and how long until it may."""

    wait: float


class RateLimitPacer:
    """The shared view of the rate-limit window. ``turn`` admits one request; ``learn`` reads its answer."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Sleep = anyio.sleep,
        shared: SharedWindow | None = None,
    ) -> None:
        self._shared = shared
        self._to_share: float | None = None
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._reopens_at = 0.0
        self._probe_needed = False
        self._probe_done: anyio.Event | None = None

    def closed_for(self) -> float:
        """Seconds until the window reopens (0 when open)."""
        return max(0.0, self._reopens_at - self._monotonic())

    def learn(self, status: int, headers: httpx.Headers) -> None:
        """Read what an answer says about the window. Never raises: a paid answer is never lost to a header."""
        if status == 429 or window_used_up(headers):
            wait = header_wait(headers, self._wall_clock()) or MIN_WAIT_SECONDS
            self._reopens_at = max(self._reopens_at, self._monotonic() + wait)
            self._probe_needed = True
            if self._shared is not None:
                self._to_share = self._wall_clock() + wait

    async def sync(self) -> None:
        """Take in a window another replica closed (before a turn). Never raises."""
        if self._shared is None:
            return
        try:
            reopens_at = await self._shared.window_reopens_at()
        except Exception:  # the store logs its own outages; this replica keeps its own view
            return
        wait = min((reopens_at or 0.0) - self._wall_clock(), MAX_WAIT_SECONDS)
        if wait > 0 and self._monotonic() + wait > self._reopens_at:
            self._reopens_at = self._monotonic() + wait
            self._probe_needed = True

    async def share(self) -> None:
        """Tell the other replicas about a window this one learned was closed (after ``learn``). Never raises."""
        reopens_at, self._to_share = self._to_share, None
        if self._shared is None or reopens_at is None:
            return
        try:
            await self._shared.close_window_until(reopens_at)
        except Exception:  # the store logs its own outages
            return

    @asynccontextmanager
    async def turn(self, deadline: float, max_wait: float, waits_left: list[int]) -> AsyncIterator[Refusal | None]:
        """Wait until one request may be sent and yield None, or yield a ``Refusal`` if that is too far off.

        ``deadline`` is the call's monotonic deadline, ``max_wait`` the longest single wait worth
        making, ``waits_left`` the call's remaining number of waits (a one-item list, decremented).
        """
        while True:
            wait = self.closed_for()
            if wait > 0:
                if wait > max_wait or waits_left[0] <= 0 or self._monotonic() + wait > deadline:
                    yield Refusal(wait)
                    return
                waits_left[0] -= 1
                await self._sleep(wait)
                continue
            probe = self._probe_done
            if probe is None:
                break
            with anyio.move_on_after(max(0.0, deadline - self._monotonic())):
                await probe.wait()
            if not probe.is_set():
                yield Refusal(max(self.closed_for(), MIN_WAIT_SECONDS))
                return
        probing = self._probe_needed
        if probing:
            self._probe_needed = False
            self._probe_done = anyio.Event()
        try:
            yield None
        finally:
            if probing:
                done, self._probe_done = self._probe_done, None
                if done is not None:
                    done.set()
