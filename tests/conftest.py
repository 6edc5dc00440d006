from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client
from pydantic import SecretStr

from tests.fake_autograb import API_KEY, POLO, FakeAutoGrab
from tests.redis_server import RedisServer
from vin_mcp.autograb.client import AutoGrabClient
from vin_mcp.autograb.config import AutoGrabConfig
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.autograb.transport import Transports
from vin_mcp.mcp_server.server import create_server
from vin_mcp.settings import Settings
from vin_mcp.vin.identifiers import VinSearch

# A shell that starts a job in the background without job control starts it with SIGINT ignored, and every
# child inherits that: the tests that press Ctrl-C in a child (batch, the CLI's question, the fake) would see
# nothing happen. A handler, unlike "ignored", is not inherited across exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The fake served over TLS (``tls_fake``), for the TLS and proxy tests.
pytest_plugins = ["tests.tls_fake"]

# The fast layer (`pytest -m unit`, seconds): pure rules and in-memory answers; no subprocess, browser or Redis.
UNIT_FILES = frozenset(
    {
        "test_vin.py",
        "test_confidence.py",
        "test_brands.py",
        "test_layers.py",
        "test_schema.py",
        "test_settings.py",
        "test_pacing.py",
        "test_cache.py",
        "test_golden.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in UNIT_FILES:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True, scope="session")
def no_settings_from_the_outside() -> Iterator[None]:
    """Settings read the process environment: tests see only what they set themselves."""
    outside = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    yield
    os.environ.update(outside)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeAutoGrab]:
    fake = FakeAutoGrab().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server: FakeAutoGrab) -> FakeAutoGrab:
    fake_server.reset()
    return fake_server


def make_settings(fake: FakeAutoGrab, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"api_key": SecretStr(API_KEY), "base_url": fake.url, "timeout": 2.0}
    values.update(overrides)
    return Settings(**values)


async def search_polo(fake: FakeAutoGrab, **overrides: Any) -> str | None:
    """One search for the POLO VIN through the real client on a pool of its own: the make found, or None."""
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake, **overrides)))
        answer = await api.search(LookupRequest(search=VinSearch.parse(POLO), region="au"))
    return answer.vehicle.make if answer.vehicle else None


@pytest.fixture
def settings(fake: FakeAutoGrab) -> Settings:
    return make_settings(fake)


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Client]:
    async with Client(create_server(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, emptied."""
    redis_server.command("FLUSHALL")
    return redis_server
