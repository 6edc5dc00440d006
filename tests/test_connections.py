"""Direct connections to the API (autograb/connections.py): kept alive and reused one request at a time, never
reused once the server or the exchange has ended them, and every way a reply can be framed read in full."""

from __future__ import annotations

import dataclasses

import anyio
import httpx
import pytest

from tests import fake_autograb as fa
from tests.conftest import make_settings
from vin_mcp.autograb.client import AutoGrabClient
from vin_mcp.autograb.config import AutoGrabConfig
from vin_mcp.autograb.connections import Attempt, DirectConnections
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.autograb.transport import Transports
from vin_mcp.errors import ServiceUnavailableError
from vin_mcp.vin.identifiers import VinSearch

POLO_TARGET = f"/v2/vehicles/vins/{fa.POLO}?region=au"


def polo_reply(**changes: object) -> fa.Reply:
    [answer] = fa.default_scenarios()[("search", fa.POLO)]
    return dataclasses.replace(answer, **changes)  # type: ignore[arg-type]


def request_for(vin: str = fa.POLO) -> LookupRequest:
    return LookupRequest(search=VinSearch.parse(vin), region="au")


def headers_for(fake: fa.FakeAutoGrab) -> list[tuple[bytes, bytes]]:
    return [(b"Host", fake.url.removeprefix("http://").encode()), (b"ApiKey", fa.API_KEY.encode())]


def peers(fake: fa.FakeAutoGrab) -> list[int]:
    return [call.peer for call in fake.calls()]


@pytest.mark.anyio
async def test_sequential_searches_share_one_kept_alive_connection(fake: fa.FakeAutoGrab) -> None:
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)))
        for _ in range(4):
            assert (await api.search(request_for())).vehicle is not None
    assert len(fake.calls()) == 4 and len(set(peers(fake))) == 1


@pytest.mark.anyio
async def test_concurrent_searches_each_have_a_connection_and_leave_them_for_the_next(fake: fa.FakeAutoGrab) -> None:
    fake.latency = 0.2  # all three in flight at once
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)))
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(api.search, request_for())
        first = set(peers(fake))
        fake.latency = 0.0
        await api.search(request_for())
    assert len(first) == 3
    assert peers(fake)[-1] in first


@pytest.mark.anyio
@pytest.mark.parametrize(
    "ending",
    [
        pytest.param({"headers": {"Connection": "close"}}, id="connection-close"),
        pytest.param({"action": "until_close"}, id="body-ended-by-closing"),
    ],
)
async def test_a_connection_the_reply_ends_is_not_reused(fake: fa.FakeAutoGrab, ending: dict[str, object]) -> None:
    fake.script("search", fa.POLO, polo_reply(**ending), polo_reply())
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)))
        first = await api.search(request_for())
        second = await api.search(request_for())
    assert first.vehicle is not None and first.vehicle.make == "Volkswagen"
    assert second.vehicle is not None
    one, two = peers(fake)
    assert one != two


@pytest.mark.anyio
async def test_a_chunked_reply_is_read_whole(fake: fa.FakeAutoGrab) -> None:
    fake.script("search", fa.POLO, polo_reply(action="chunked"), polo_reply())
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)))
        chunked = await api.search(request_for())
        plain = await api.search(request_for())
    assert chunked == plain
    assert len(set(peers(fake))) == 1  # and the connection carried on after it


@pytest.mark.anyio
async def test_a_reply_that_is_not_http_is_a_broken_connection_and_not_sent_again(fake: fa.FakeAutoGrab) -> None:
    fake.script("search", fa.POLO, polo_reply(action="garbage"), polo_reply())
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)))
        with pytest.raises(ServiceUnavailableError) as raised:
            await api.search(request_for())
        assert "connection to AutoGrab broke while it was answering (RemoteProtocolError)" in raised.value.message
        assert len(fake.calls()) == 1  # the search reached the API: not paid for twice
        assert (await api.search(request_for())).vehicle is not None  # a new connection for the next


@pytest.mark.anyio
async def test_a_cancelled_request_leaves_its_connection_unused(fake: fa.FakeAutoGrab) -> None:
    fake.script("search", fa.POLO, polo_reply(action="hang"), polo_reply())
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake, timeout=10.0)))
        with anyio.move_on_after(0.3):
            await api.search(request_for())
        assert (await api.search(request_for())).vehicle is not None
    hung, answered = peers(fake)
    assert hung != answered


@pytest.mark.anyio
async def test_an_idle_connection_is_kept_for_the_keep_alive_expiry_and_no_longer(fake: fa.FakeAutoGrab) -> None:
    now = [100.0]
    connections = DirectConnections(
        httpx.create_ssl_context(), max_connections=10, max_idle=10, keepalive_expiry=5.0, monotonic=lambda: now[0]
    )
    try:
        for advance in (0.0, 4.9, 5.0):
            now[0] += advance
            reply = await connections.get(fake.url, POLO_TARGET, headers_for(fake), Attempt(connect_timeout=2.0))
            assert reply.status == 200
    finally:
        await connections.aclose()
    first, within, after = peers(fake)
    assert first == within and after != within


async def get_polo(fake: fa.FakeAutoGrab, connections: DirectConnections) -> None:
    reply = await connections.get(fake.url, POLO_TARGET, headers_for(fake), Attempt(connect_timeout=2.0))
    assert reply.status == 200


async def all_at_once(count: int, fake: fa.FakeAutoGrab, connections: DirectConnections) -> set[int]:
    """``count`` requests started together (each takes 0.1 s at the fake): the connections they used."""
    fake.reset_calls()
    fake.latency = 0.1
    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(get_polo, fake, connections)
    return set(peers(fake))


@pytest.mark.anyio
async def test_no_more_connections_open_than_allowed(fake: fa.FakeAutoGrab) -> None:
    connections = DirectConnections(httpx.create_ssl_context(), max_connections=2, max_idle=2, keepalive_expiry=60.0)
    try:
        used = await all_at_once(4, fake, connections)  # two at a time, each connection carrying two
    finally:
        await connections.aclose()
    assert len(used) == 2 and len(fake.calls()) == 4


@pytest.mark.anyio
async def test_no_more_connections_stay_idle_than_allowed(fake: fa.FakeAutoGrab) -> None:
    connections = DirectConnections(httpx.create_ssl_context(), max_connections=10, max_idle=1, keepalive_expiry=60.0)
    try:
        first = await all_at_once(2, fake, connections)
        again = await all_at_once(2, fake, connections)
    finally:
        await connections.aclose()
    # Only one of the first two was kept: the next pair reuses it and opens one more.
    assert len(first) == 2 and len(again) == 2 and len(again & first) == 1
