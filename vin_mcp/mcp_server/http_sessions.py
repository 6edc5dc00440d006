"""Bounds on the HTTP server's sessions, so no client can lock the others out by opening thousands.

Wraps the MCP endpoint (inside authentication, so the caller is known). Each session belongs to a client: the
OAuth subject (or client id), or with a shared token the peer address. A new session over the client's cap,
or over the server's, first closes the idlest session that has no request in flight (the client is told
"Session not found", and the MCP spec has it start a new one); only when every session is busy is the new
one refused. The SDK's own idle timeout closes a session nobody uses; ``saturated`` says when the server can
take no one new (``/health``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

SESSION_HEADER = b"mcp-session-id"
# A client refused a session is told to come back after this many seconds.
RETRY_AFTER_SECONDS = 5


@dataclass
class _Session:
    owner: str
    scope: Scope  # the latest request's, to close the session as that client would
    last_seen: float
    active: int = 0  # requests in flight, open GET streams included


class SessionLimiter:
    """An ASGI wrapper around the SDK's MCP endpoint (stateful mode)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_sessions: int,
        per_client: int,
        idle_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.max_sessions = max_sessions
        self.per_client = per_client
        self.idle_seconds = idle_seconds
        self._monotonic = monotonic
        self._sessions: dict[str, _Session] = {}
        self._pending = 0
        self.evicted = 0

    @property
    def open(self) -> int:
        self._forget_expired()
        return len(self._sessions)

    @property
    def saturated(self) -> bool:
        """At the cap with no idle session to close: a new client would be refused."""
        return self.open >= self.max_sessions and self._idlest(None) is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = dict(scope["headers"]).get(SESSION_HEADER)
        if session_id is not None:
            await self._existing(session_id.decode("latin-1"), scope, receive, send)
        elif scope["method"] == "POST":
            await self._opening(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _existing(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self._sessions.get(session_id)
        if session is None:
            await self.app(scope, receive, send)  # the SDK answers for sessions it does or does not know
            return
        session.active += 1
        session.scope = scope
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            session.active -= 1
            session.last_seen = self._monotonic()
            if status == 404 or (scope["method"] == "DELETE" and 200 <= status < 300):
                self._sessions.pop(session_id, None)

    async def _opening(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = _owner(scope)
        self._forget_expired()
        theirs = sum(1 for s in self._sessions.values() if s.owner == owner)
        if theirs >= self.per_client:
            victim = self._idlest(owner)
            if victim is None:
                await _refuse(send, 429, f"This client already has {theirs} sessions in use; close one first.")
                return
            await self._close(victim)
        elif len(self._sessions) + self._pending >= self.max_sessions:
            victim = self._idlest(None)
            if victim is None:
                logger.warning("Refusing a new session: all %d sessions are in use", self.max_sessions)
                await _refuse(send, 503, "The server has no room for another session; try again shortly.")
                return
            await self._close(victim)
        self._pending += 1
        opened: list[str] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                session_id = dict(message.get("headers", [])).get(SESSION_HEADER)
                if session_id is not None:
                    opened.append(session_id.decode("latin-1"))
                    self._sessions[opened[0]] = _Session(owner, scope, self._monotonic(), active=1)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self._pending -= 1
            if opened and (session := self._sessions.get(opened[0])) is not None:
                session.active -= 1
                session.last_seen = self._monotonic()

    def _idlest(self, owner: str | None) -> str | None:
        idle = [
            (s.last_seen, sid)
            for sid, s in self._sessions.items()
            if s.active == 0 and (owner is None or s.owner == owner)
        ]
        return min(idle)[1] if idle else None

    def _forget_expired(self) -> None:
        """Sessions the SDK has closed for idleness (the same timeout) are no longer counted."""
        horizon = self._monotonic() - self.idle_seconds
        for sid in [sid for sid, s in self._sessions.items() if s.active == 0 and s.last_seen < horizon]:
            del self._sessions[sid]

    async def _close(self, session_id: str) -> None:
        """End a session through the SDK as its client would (DELETE with its credentials), so it is freed."""
        session = self._sessions.pop(session_id)
        headers = [(k, v) for k, v in session.scope["headers"] if k not in (SESSION_HEADER, b"content-length")]
        scope = {**session.scope, "method": "DELETE", "headers": [*headers, (SESSION_HEADER, session_id.encode())]}

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(_: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        self.evicted += 1
        logger.info("Closed the idlest session to make room (client %s)", session.owner)


def _owner(scope: Scope) -> str:
    """Who a session belongs to: the OAuth subject or client, else the peer address."""
    user: Any = scope.get("user")
    token = getattr(user, "access_token", None)
    if token is not None:
        return f"oauth:{token.subject or token.client_id}"
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
