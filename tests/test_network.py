"""The client's sockets (autograb/network.py): an idle pooled connection the API has closed is noticed before it
is reused, so the next search opens a new one instead of failing as a broken answer."""

from __future__ import annotations

import dataclasses

import anyio
import pytest

from tests import fake_autograb as fa
from tests.conftest import make_settings
from vin_mcp.autograb.client import AutoGrabClient
from vin_mcp.autograb.config import AutoGrabConfig
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.autograb.transport import Transports
from vin_mcp.vin.identifiers import VinSearch


@pytest.mark.anyio
async def test_a_connection_the_api_closed_while_idle_is_not_reused(fake: fa.FakeAutoGrab) -> None:
    [answer] = fa.default_scenarios()[("search", fa.POLO)]
    fake.script("search", fa.POLO, dataclasses.replace(answer, action="close_after"), answer)
    request = LookupRequest(search=VinSearch.parse(fa.POLO), region="au")
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)))
        assert (await api.search(request)).vehicle is not None
        await anyio.sleep(0.2)  # the server's close reaches the idle connection in the pool
        again = await api.search(request)
    assert again.vehicle is not None
    assert len(fake.calls(fa.POLO)) == 2
