"""Streamable HTTP transport: the same tools for many clients, one service per process.

Security layers, outermost first: the bearer token (``VIN_MCP_HTTP_TOKEN``) on the MCP endpoint,
then the SDK's Host/Origin checks against DNS rebinding. ``/health`` is open and says nothing secret.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import socket
import sys
from typing import Any

import anyio
import h11
import uvicorn
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from sse_starlette.sse import AppStatus
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from vin_mcp import __version__
from vin_mcp.errors import ConfigurationError
from vin_mcp.mcp_server.http_sessions import SessionLimiter
from vin_mcp.mcp_server.http_settings import HttpSettings
from vin_mcp.mcp_server.server import SERVER_NAME, VinMcpServer, create_server
from vin_mcp.mcp_server.shutdown import ANSWER_SECONDS, wind_down
from vin_mcp.settings import Settings

HEALTH_PATH = "/health"
ROOT_RESOURCE_METADATA = "/.well-known/oauth-protected-resource"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# After the calls in flight are answered (VIN_MCP_SHUTDOWN_SECONDS), what is left (idle SSE streams) gets this.
GRACEFUL_SHUTDOWN_SECONDS = 1
# Connections and requests served at once; beyond, uvicorn answers 503 (a flood cannot exhaust descriptors).
MAX_CONNECTIONS = 1_000
KEEP_ALIVE_SECONDS = 5

logger = logging.getLogger(__name__)


def transport_security(http: HttpSettings) -> TransportSecuritySettings:
    """Host and Origin allow-lists: loopback, the bound address, and whatever the operator lists."""
    names = list(LOOPBACK_HOSTS)
    if not http.wildcard_bind and not http.loopback_only:
        names.append(f"[{http.host}]" if ":" in http.host else http.host)
    names.extend(http.allowed_hosts)
    hosts: list[str] = []
    for name in names:
        # A Host header carries no port on 80/443 and "name:port" otherwise.
        hosts.extend([name] if _has_port(name) else [name, f"{name}:*"])
    origins = [f"http://{name}:*" for name in LOOPBACK_HOSTS] + [f"http://{name}" for name in LOOPBACK_HOSTS]
    origins.extend(http.allowed_origins)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def _has_port(name: str) -> bool:
    return name.rsplit("]", 1)[-1].count(":") == 1


class BearerTokenMiddleware:
    """Refuses MCP requests without ``Authorization: Bearer <token>``; other paths pass through."""

    def __init__(self, app: ASGIApp, token: str, protected_path: str) -> None:
        self.app = app
        self._expected = token.encode()
        self._path = protected_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == self._path:
            # RFC 7235: the scheme is case-insensitive ("bearer", "BEARER"), as in OAuth mode.
            scheme, _, supplied = dict(scope["headers"]).get(b"authorization", b"").strip().partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(supplied.strip(), self._expected):
                response = JSONResponse(
                    {
                        "error": "invalid_token",
                        "error_description": "Send the vin-mcp server's token as 'Authorization: Bearer <token>'.",
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="vin-mcp"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class InFlightRequests:
    """Counts the MCP requests being handled, so shutdown can wait for them (an SDK server middleware)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle: anyio.Event | None = None

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        self.count += 1
        try:
            return await call_next(ctx)
        finally:
            self.count -= 1
            if self.count == 0 and self._idle is not None:
                self._idle.set()

    async def drained(self, seconds: float) -> bool:
        """Wait until no request is in flight, at most ``seconds``; True if it got there."""
        if self.count:
            self._idle = anyio.Event()
            with anyio.move_on_after(seconds):
                await self._idle.wait()
        return self.count == 0


def create_http_app(settings: Settings, http: HttpSettings, in_flight: InFlightRequests | None = None) -> ASGIApp:
    """The ASGI app: MCP at ``http.path``, ``/health`` for probes, a bearer token or OAuth when configured."""
    return build_http(settings, http, in_flight)[1]


def build_http(
    settings: Settings, http: HttpSettings, in_flight: InFlightRequests | None = None
) -> tuple[VinMcpServer, ASGIApp]:
    """The MCP server and the ASGI app serving it."""
    server = create_server(settings, **_oauth(http)) if http.oauth else create_server(settings)
    if http.oauth:
        _add_root_resource_metadata(server, http)
    if in_flight is not None:
        server.middleware.append(in_flight)
    limits: list[SessionLimiter] = []
    _add_health_route(server, settings, http, limits)
    starlette_app = server.streamable_http_app(
        streamable_http_path=http.path,
        stateless_http=http.stateless,
        # Stateless replicas answer with plain JSON: no stream to pin a client to one replica.
        json_response=http.stateless,
        transport_security=transport_security(http),
        host=http.host,
        session_idle_timeout=http.session_idle_minutes * 60,
        # A backstop only: SessionLimiter keeps to http.max_sessions, closing idle sessions to make room.
        max_sessions=http.max_sessions * 2,
    )
    if not http.stateless:
        limits.append(_limit_sessions(starlette_app, http))
    app: ASGIApp = starlette_app
    if http.token is not None:
        app = BearerTokenMiddleware(app, http.token.get_secret_value(), http.path)
    return server, app


def _limit_sessions(app: Starlette, http: HttpSettings) -> SessionLimiter:
    """Wrap the MCP endpoint (inside authentication, so the caller is known) in the session bounds."""
    (route,) = [r for r in app.routes if isinstance(r, Route) and r.path == http.path]
    limiter = SessionLimiter(
        route.app,
        max_sessions=http.max_sessions,
        per_client=http.max_sessions_per_client,
        idle_seconds=http.session_idle_minutes * 60,
    )
    route.app = limiter
    return limiter


def _oauth(http: HttpSettings) -> dict[str, Any]:
    """OAuth resource-server mode: the SDK's discovery and 401/403 answers, our JWT checks (``oauth``)."""
    from mcp.server.auth.settings import AuthSettings
    from pydantic import AnyHttpUrl

    from vin_mcp.mcp_server.oauth import JwtVerifier

    assert http.oauth_issuer is not None and http.oauth_audience is not None
    auth = AuthSettings(
        issuer_url=AnyHttpUrl(http.oauth_issuer),
        resource_server_url=AnyHttpUrl(http.oauth_audience),
        required_scopes=list(http.oauth_scopes),
        # The verifier checks aud itself, exactly (RFC 8707), before the SDK sees the token.
        validate_token_resource=False,
    )
    return {"auth": auth, "token_verifier": JwtVerifier(http.oauth_issuer, http.oauth_audience, http.oauth_jwks_url)}


def _add_root_resource_metadata(server: VinMcpServer, http: HttpSettings) -> None:
    """The SDK serves the metadata where RFC 9728 puts it for a resource with a path
    (``/.well-known/oauth-protected-resource/mcp``); some clients look only at the root: the same there."""
    from mcp.server.auth.routes import create_protected_resource_routes
    from pydantic import AnyHttpUrl

    assert http.oauth_issuer is not None and http.oauth_audience is not None
    (route,) = create_protected_resource_routes(
        resource_url=AnyHttpUrl(http.oauth_audience),
        authorization_servers=[AnyHttpUrl(http.oauth_issuer)],
        scopes_supported=list(http.oauth_scopes),
    )
    if route.path != ROOT_RESOURCE_METADATA:
        server.custom_route(ROOT_RESOURCE_METADATA, methods=["GET", "OPTIONS"])(route.endpoint)


def _add_health_route(
    server: VinMcpServer, settings: Settings, http: HttpSettings, limits: list[SessionLimiter]
) -> None:
    async def health(_: Request) -> Response:
        # Liveness only: probing AutoGrab here would bill the customer for every probe.
        service = server.service
        saturated = any(limiter.saturated for limiter in limits)
        status = "shutting down" if service is not None and service.closing else "saturated" if saturated else "ok"
        body: dict[str, Any] = {
            "status": status,
            "server": SERVER_NAME,
            "version": __version__,
            "mode": "online" if settings.api_key is not None else "offline (no AUTOGRAB_API_KEY)",
            "stateless": http.stateless,
            "cache": service.cache_backend() if service is not None else "memory",
        }
        for limiter in limits:
            body["sessions"] = {"open": limiter.open, "max": limiter.max_sessions}
        # A server shutting down is alive but should be sent nothing new.
        return Response(
            json.dumps(body), media_type="application/json", status_code=503 if service and service.closing else 200
        )

    server.custom_route(HEALTH_PATH, methods=["GET"], include_in_schema=False)(health)


class _NoQueryStrings(logging.Filter):
    """Access-log lines keep the path but drop the query string, where a client may have put a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


class _HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's headers, counted from the connection (or
    the previous response): a client trickling a header byte every few seconds would otherwise hold its
    connection forever, and enough of them exhaust the file descriptors before any authentication runs.
    (uvicorn's keep-alive timeout restarts with every byte received.)"""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state in (h11.SEND_BODY, h11.DONE) and self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state not in (h11.SEND_BODY, h11.DONE) and not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app: ASGIApp, http: HttpSettings, log_level: str) -> uvicorn.Config:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoQueryStrings) for f in access.filters):
        access.addFilter(_NoQueryStrings())
    protocol = type("HeaderDeadline", (_HeaderDeadline,), {"header_timeout": http.header_timeout})
    return uvicorn.Config(
        app,
        host=http.host,
        port=http.port,
        http=protocol,
        # Past this many open connections (or requests), uvicorn answers 503 at once instead of serving.
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Keep logging ours (stderr, our format); access lines only at INFO and below.
        log_config=None,
        access_log=log_level in ("DEBUG", "INFO"),
        log_level=log_level.lower(),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )


def serve_http(settings: Settings, http: HttpSettings, log_level: str = "WARNING") -> None:
    """Run until interrupted; says on stderr where it listens (the real port when asked for port 0)."""
    in_flight = InFlightRequests()
    server, app = build_http(settings, http, in_flight)
    config = uvicorn_config(app, http, log_level)
    sock = bind_socket(http.host, http.port)
    host = f"[{http.host}]" if ":" in http.host else http.host
    auth = (
        "OAuth tokens required"
        if http.oauth
        else "bearer token required"
        if http.token is not None
        else "no token (loopback only)"
    )
    mode = "stateless" if http.stateless else "sessions"
    notice = f"vin-mcp: listening on http://{host}:{sock.getsockname()[1]}{http.path} ({mode}, {auth})"
    # sse-starlette ends every SSE stream the moment uvicorn gets SIGTERM, which in session mode cuts off
    # calls in flight (their answers travel on such streams); _DrainingServer ends them itself, later.
    AppStatus.enable_automatic_graceful_drain = False  # what disable_automatic_graceful_drain() sets
    # uvicorn raises the SIGTERM it caught again once it has shut down; handled here, the process then exits 0.
    signal.signal(signal.SIGTERM, lambda *_: None)
    _DrainingServer(config, notice, in_flight, server, settings.shutdown_seconds).run(sockets=[sock])


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Created with an explicit IPPROTO_TCP: asyncio only sets TCP_NODELAY on
    connections whose socket says so, and without it Nagle's algorithm and delayed ACKs add about
    40 ms to every response written in two parts (uvicorn's bind_socket leaves the protocol 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"Cannot listen on {host}:{port}: {exc.strerror}.",
            "Choose another address or port (--host/--port, VIN_MCP_HTTP_HOST/VIN_MCP_HTTP_PORT), "
            "or stop whatever is using it.",
        ) from None
    sock.set_inheritable(True)
    return sock


class _DrainingServer(uvicorn.Server):
    """Says where it listens once it accepts connections, so scripts can wait for that line; on shutdown,
    stops accepting, lets the calls in flight answer within the shutdown bound (``shutdown.wind_down``), then
    ends the idle streams."""

    def __init__(
        self,
        config: uvicorn.Config,
        notice: str,
        in_flight: InFlightRequests,
        server: VinMcpServer,
        shutdown_seconds: float,
    ) -> None:
        super().__init__(config)
        self._notice = notice
        self._in_flight = in_flight
        self._server = server
        self._shutdown_seconds = shutdown_seconds

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self._notice, file=sys.stderr, flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        await wind_down(self._server.service, self._shutdown_seconds)
        # The answers just made are written before the connections close.
        if not await self._in_flight.drained(ANSWER_SECONDS):
            logger.warning("Shutting down with %d MCP requests still unanswered", self._in_flight.count)
        AppStatus.should_exit = True
        await super().shutdown(sockets)
