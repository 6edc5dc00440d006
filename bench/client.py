"""The AutoGrab client's own cost: one VIN search beside a plain httpx GET of the same URL, interleaved."""

from __future__ import annotations

import time

import httpx

from bench.common import Row, median, settings_for
from tests import fake_autograb as fa
from vin_mcp.autograb.client import AutoGrabClient
from vin_mcp.autograb.config import AutoGrabConfig
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.autograb.transport import Transports
from vin_mcp.vin.identifiers import VinSearch


async def measure_search(fake: fa.FakeAutoGrab, rounds: int) -> Row:
    settings = settings_for(fake)
    request = LookupRequest(search=VinSearch.parse(fa.POLO), region="au")
    url = f"{fake.url}/v2/vehicles/vins/{fa.POLO}"
    searches, gets = [], []
    async with Transports() as ours, httpx.AsyncClient() as plain:
        client = AutoGrabClient(ours, AutoGrabConfig.from_settings(settings))
        for round_ in range(rounds + rounds // 10):
            started = time.perf_counter()
            answer = await client.search(request)
            searched = time.perf_counter() - started
            started = time.perf_counter()
            response = await plain.get(url, params={"region": "au"}, headers={"ApiKey": fa.API_KEY})
            response.json()
            got = time.perf_counter() - started
            assert answer.vehicle is not None and response.status_code == 200
            if round_ >= rounds // 10:  # the first rounds warm both up
                searches.append(searched)
                gets.append(got)
    ratio = median(searches) / median(gets)
    return Row(
        f"AutoGrab client: one VIN search, parsed and validated ({rounds} interleaved rounds, median)",
        f"{median(searches) * 1e6:.0f} µs ({ratio:.2f}×)",
        f"a plain httpx GET of the same URL, JSON decoded: {median(gets) * 1e6:.0f} µs",
        "≤ 1.10×",
        ratio <= 1.10,
        timed=True,
    )
