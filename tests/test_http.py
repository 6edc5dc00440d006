"""Streamable HTTP: the real uvicorn server on loopback, driven by the SDK's HTTP client and by raw requests."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests import fake_autograb as fa
from vin_mcp.errors import ConfigurationError
from vin_mcp.mcp_server.http_settings import HttpSettings
from vin_mcp.mcp_server.http_transport import bind_socket, create_http_app, uvicorn_config
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio
TOKEN = "test-token-0123456789abcdef"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@contextmanager
def serving(settings: Settings, http: HttpSettings, *, port: int = 0) -> Iterator[str]:
    """The real uvicorn server in a thread, on loopback (a free port by default); yields the base URL."""
    config = uvicorn_config(create_http_app(settings, http), http.model_copy(update={"port": port}), "WARNING")
    sock = bind_socket("127.0.0.1", port)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def mcp_client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=30)))


async def test_many_clients_share_one_service_and_cache(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    with serving(settings, HttpSettings()) as url:
        answers: list[Any] = []

        async def one_client() -> None:
            async with mcp_client(f"{url}/mcp") as client:
                result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
                answers.append(result)

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(one_client)
    assert len(answers) == 5
    assert all(not a.is_error and a.structured_content["vehicle"]["model"] == "Polo" for a in answers)
    assert len(fake.calls(fa.POLO)) == 1


async def test_stateless_mode_serves_plain_json_without_sessions(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    with serving(settings, HttpSettings(stateless=True)) as url:
        async with mcp_client(f"{url}/mcp") as client:
            tools = await client.list_tools()
            first = await client.call_tool("lookup_vin", {"vin": fa.POLO})
        async with mcp_client(f"{url}/mcp") as client:
            second = await client.call_tool("lookup_vin", {"vin": fa.POLO})
            build = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "limit": 5})
        async with httpx.AsyncClient() as plain:
            raw = await plain.post(f"{url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert {t.name for t in tools.tools} == {"lookup_vin", "lookup_registration", "get_factory_build_data"}
    assert not first.is_error and not second.is_error and not build.is_error
    assert "cached_minutes_ago" in second.structured_content
    assert len(fake.calls(fa.POLO)) == 1
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json")
    assert "mcp-session-id" not in raw.headers
    assert raw.json()["result"]["serverInfo"]["name"] == "vin-mcp"


async def test_tool_errors_arrive_as_is_error_over_http(settings: Settings) -> None:
    with serving(settings, HttpSettings()) as url:
        async with mcp_client(f"{url}/mcp") as client:
            bad = await client.call_tool("lookup_vin", {"vin": "NOT A VIN"})
            unauthorised = await client.call_tool("lookup_vin", {"vin": fa.FAULTS["401"]})
    assert bad.is_error and "not a valid VIN" in bad.content[0].text  # type: ignore[union-attr]
    assert unauthorised.is_error and "AUTOGRAB_API_KEY" in unauthorised.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "evil.example.com"}, 421),
        ({"host": "evil.example.com:8000"}, 421),
        ({"origin": "http://evil.example.com"}, 403),
        ({"origin": "https://attacker.test:443"}, 403),
        ({}, 200),
        ({"origin": "http://localhost:6274"}, 200),
    ],
)
def test_dns_rebinding_protection(settings: Settings, headers: dict[str, str], status: int) -> None:
    with serving(settings, HttpSettings()) as url:
        response = httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **headers})
    assert response.status_code == status


def test_allowed_hosts_and_origins_extend_the_lists(settings: Settings) -> None:
    http = HttpSettings(allowed_hosts=("vin.example.com",), allowed_origins=("https://desk.example.com",))
    with serving(settings, http) as url:
        by_name = httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "host": "vin.example.com"})
        with_port = httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "host": "vin.example.com:8443"})
        origin = httpx.post(
            f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": "https://desk.example.com"}
        )
        other = httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "host": "vin.example.org"})
    assert (by_name.status_code, with_port.status_code, origin.status_code) == (200, 200, 200)
    assert other.status_code == 421


async def test_bearer_token_is_required_when_set(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    http = HttpSettings(token=TOKEN)  # pydantic turns it into a SecretStr
    with serving(settings, http) as url:
        async with httpx.AsyncClient(base_url=url) as plain:
            missing = await plain.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            wrong = await plain.post(
                "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {TOKEN}x"}
            )
            basic = await plain.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "authorization": TOKEN})
            trailing_slash = await plain.post("/mcp/", json=INITIALIZE, headers=MCP_HEADERS)
            health = await plain.get("/health")
        async with mcp_client(f"{url}/mcp", TOKEN) as client:
            result = await client.call_tool("lookup_vin", {"vin": fa.POLO})
    for refused in (missing, wrong, basic, trailing_slash):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in refused.text
    assert health.status_code == 200
    assert not result.is_error
    assert len(fake.calls(fa.POLO)) == 1


def test_health_reports_mode_without_secrets(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    with serving(settings, HttpSettings(stateless=True)) as url:
        online = httpx.get(f"{url}/health")
    with serving(Settings(), HttpSettings()) as url:
        offline = httpx.get(f"{url}/health")
    assert online.status_code == 200
    assert online.json() == {
        "status": "ok",
        "server": "vin-mcp",
        "version": online.json()["version"],
        "mode": "online",
        "stateless": True,
        "cache": "memory",
    }
    assert fa.API_KEY not in online.text
    assert offline.json()["mode"].startswith("offline")
    assert fake.calls() == []  # a probe never costs a paid call


def test_custom_path(settings: Settings) -> None:
    with serving(settings, HttpSettings(path="/vin")) as url:
        moved = httpx.post(f"{url}/vin", json=INITIALIZE, headers=MCP_HEADERS)
        old = httpx.post(f"{url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert moved.status_code == 200 and old.status_code == 404


# --- settings: safe defaults, refusals --------------------------------------------------------------


def test_http_defaults_bind_loopback() -> None:
    http = HttpSettings.from_env({})
    assert (http.host, http.port, http.path, http.stateless, http.token) == ("127.0.0.1", 8000, "/mcp", False, None)
    assert http.loopback_only


def test_options_override_environment() -> None:
    env = {"VIN_MCP_HTTP_HOST": "127.0.0.2", "VIN_MCP_HTTP_PORT": "9000", "VIN_MCP_HTTP_PATH": "/a/"}
    assert HttpSettings.from_env(env).port == 9000
    assert HttpSettings.from_env(env).path == "/a"
    http = HttpSettings.from_env(env, host="::1", port=9100, path="/b", stateless=True)
    assert (http.host, http.port, http.path, http.stateless) == ("::1", 9100, "/b", True)
    assert HttpSettings.from_env({"VIN_MCP_HTTP_STATELESS": "yes"}).stateless


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VIN_MCP_HTTP_HOST": "10.0.0.5"}, "without authentication"),
        ({"VIN_MCP_HTTP_HOST": "0.0.0.0", "VIN_MCP_HTTP_TOKEN": TOKEN}, "VIN_MCP_HTTP_ALLOWED_HOSTS"),
        ({"VIN_MCP_HTTP_TOKEN": "short"}, "shorter than 16"),
        ({"VIN_MCP_HTTP_PORT": "http"}, "VIN_MCP_HTTP_PORT"),
        ({"VIN_MCP_HTTP_PORT": "70000"}, "VIN_MCP_HTTP_PORT"),
        ({"VIN_MCP_HTTP_PATH": "mcp"}, "VIN_MCP_HTTP_PATH"),
        ({"VIN_MCP_HTTP_STATELESS": "maybe"}, "VIN_MCP_HTTP_STATELESS"),
    ],
)
def test_unsafe_or_bad_http_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        HttpSettings.from_env(env)
    assert TOKEN not in str(caught.value)


def test_beyond_loopback_with_token_and_hosts_is_accepted() -> None:
    http = HttpSettings.from_env(
        {"VIN_MCP_HTTP_HOST": "0.0.0.0", "VIN_MCP_HTTP_TOKEN": TOKEN, "VIN_MCP_HTTP_ALLOWED_HOSTS": "a.example, b:81"}
    )
    assert http.allowed_hosts == ("a.example", "b:81") and not http.loopback_only
    assert TOKEN not in repr(http) and TOKEN not in http.model_dump_json()


# --- the real command -------------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    return {**base, **extra}


def test_command_refuses_to_listen_beyond_loopback_without_token() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "--transport", "http", "--host", "0.0.0.0"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "VIN_MCP_HTTP_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_command_serves_http_and_stops_on_sigterm(fake: fa.FakeAutoGrab) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "--port", "0"],
        env=_env(VIN_MCP_TRANSPORT="http", AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("vin-mcp: listening on http://127.0.0.1:"), line
        url = line.split()[3]
        assert url.endswith("/mcp")
        health = httpx.get(url.removesuffix("/mcp") + "/health", timeout=10)
        assert health.json()["mode"] == "online"
        answer = httpx.post(
            url, json={**INITIALIZE}, headers={**MCP_HEADERS, "accept": "application/json, text/event-stream"}
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the parent sees how it ended.
    assert process.returncode in (0, -signal.SIGTERM)
    assert stdout == ""  # logs and notices go to stderr
    assert fa.API_KEY not in stderr and "Traceback" not in stderr


def test_command_says_plainly_when_the_port_is_taken() -> None:
    with bind_socket("127.0.0.1", 0) as taken:
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", str(port)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in done.stderr and "another address or port" in done.stderr
    assert "Traceback" not in done.stderr


def test_allow_lists_for_a_specific_address_and_listed_names() -> None:
    from vin_mcp.mcp_server.http_transport import transport_security

    http = HttpSettings(host="10.0.0.5", token=TOKEN, allowed_hosts=("vin.example.com", "b.example:81"))
    hosts = transport_security(http).allowed_hosts
    assert {"10.0.0.5", "10.0.0.5:*", "vin.example.com", "vin.example.com:*", "b.example:81"} <= set(hosts)
    assert "b.example:81:*" not in hosts and "b.example" not in hosts
    assert {"127.0.0.1:*", "localhost", "[::1]:*"} <= set(hosts)
    ipv6 = transport_security(HttpSettings(host="fd00::1", token=TOKEN)).allowed_hosts
    assert {"[fd00::1]", "[fd00::1]:*"} <= set(ipv6)
    wildcard = transport_security(HttpSettings(host="0.0.0.0", token=TOKEN, allowed_hosts=("a.example",)))
    assert "0.0.0.0" not in wildcard.allowed_hosts and "a.example" in wildcard.allowed_hosts


@pytest.mark.parametrize("stateless", [False, True])
def test_sigterm_lets_calls_in_flight_finish(fake: fa.FakeAutoGrab, tmp_path: Any, stateless: bool) -> None:
    """Five lookups are waiting on AutoGrab when SIGTERM arrives: each still gets its answer, in both modes."""
    fake.latency = 1.5
    stderr_path = tmp_path / "stderr.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0", *(["--stateless"] * stateless)],
        env=_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url),
        stderr=stderr_path.open("w"),
    )
    answers: list[httpx.Response] = []
    try:
        for _ in range(300):
            if "listening on" in stderr_path.read_text():
                break
            time.sleep(0.05)
        url = stderr_path.read_text().split("listening on ")[1].split()[0]
        headers = {**MCP_HEADERS, "mcp-protocol-version": "2025-06-18"}

        async def one(http: httpx.AsyncClient, i: int) -> None:
            session = dict(headers)
            if not stateless:
                started = await http.post(url, json=INITIALIZE, headers=session)
                session["mcp-session-id"] = started.headers["mcp-session-id"]
                await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
            call = {"name": "lookup_vin", "arguments": {"vin": fa.eu_vin(6_000 + i)}}
            message = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}
            answers.append(await http.post(url, json=message, headers=session))

        async def five_calls_then_sigterm() -> None:
            async with httpx.AsyncClient(timeout=20) as http, anyio.create_task_group() as tg:
                for i in range(5):
                    tg.start_soon(one, http, i)
                # The fake records requests on its own threads: polling is the only way to see them.
                while len(fake.calls()) < 5:  # noqa: ASYNC110
                    await anyio.sleep(0.02)
                process.send_signal(signal.SIGTERM)  # all five are now waiting on AutoGrab

        anyio.run(five_calls_then_sigterm)
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
    assert len(answers) == 5
    for answer in answers:
        assert answer.status_code == 200 and '"isError":false' in answer.text.replace(" ", ""), answer.text
    assert len(fake.calls()) == 5


def test_access_log_lines_drop_query_strings(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """A client that puts a token in the URL does not get it written to the access log."""
    uvicorn_config(create_http_app(settings, HttpSettings()), HttpSettings(), "INFO")
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/health?token=s3cr3t-value", "1.1", 200)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", "/mcp", "1.1", 200)
    lines = [record.getMessage() for record in caplog.records]
    assert lines == ['127.0.0.1:5 - "GET /health?… HTTP/1.1" 200', '127.0.0.1:5 - "POST /mcp HTTP/1.1" 200']
