"""Cache figures: bytes held per cached VIN, and the cost of cutting a build-data page from the cache.

The baseline for bytes is the raw API body as Python objects (what a cache of responses holds); for the
page, parsing and cleaning the raw build-data body again, as a cache of raw responses must on every page.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import httpx
from pydantic import SecretStr

from bench.common import Row, Sizes
from tests import fake_autograb as fa
from vin_mcp.answers.build_data import build_facts
from vin_mcp.autograb.payloads import BuildDataResponse
from vin_mcp.service import open_service
from vin_mcp.settings import Settings


def deep_size(value: Any, seen: set[int] | None = None) -> int:
    """Bytes of an object and everything it holds (containers, strings, numbers), each object once."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        size += sum(deep_size(item, seen) for item in value)
    return size


async def cache_figures(fake: fa.FakeAutoGrab, pages: int) -> dict[str, float]:
    """Bytes per cached VIN (ours and the raw body's), and page-cut times in microseconds (median)."""
    fake.reset()
    async with httpx.AsyncClient(base_url=fake.url, headers={"ApiKey": fa.API_KEY}) as http:
        raw_lookup = (await http.get(f"/v2/vehicles/vins/{fa.RICH}")).json()
        raw_build = (await http.get(f"/v2/vehicles/vins/{fa.BUILD}/build-data")).json()
    settings = Settings(api_key=SecretStr(fa.API_KEY), base_url=fake.url)
    async with open_service(settings) as service:
        await service.lookup(fa.RICH)
        entries = service.lookups._entries  # the cache's own store: key, expiry, time, bytes
        ours = sum(deep_size(key) + deep_size(entry) for key, entry in entries.items())
        await service.build_data(fa.BUILD, limit=200)
        ours_page, baseline_page = [], []
        for _ in range(pages):  # interleaved, so both see the same machine state
            started = time.perf_counter()
            answer = await service.build_data(fa.BUILD, limit=200)
            ours_page.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_facts(BuildDataResponse.model_validate(json.loads(json.dumps(raw_build))))
            baseline_page.append(time.perf_counter() - started)
        assert len(answer.codes) == 200
    return {
        "ours_bytes": ours,
        "raw_bytes": deep_size(raw_lookup),
        "ours_page_us": statistics.median(ours_page) * 1e6,
        "baseline_page_us": statistics.median(baseline_page) * 1e6,
    }


async def measure_cache(fake: fa.FakeAutoGrab, sizes: Sizes) -> list[Row]:
    figures = await cache_figures(fake, pages=sizes.calls)
    ours, raw = figures["ours_bytes"], figures["raw_bytes"]
    return [
        Row(
            "memory per cached VIN (rich vehicle: key, entry and answer bytes)",
            f"{ours / 1024:.1f} KB",
            f"the raw API body as Python objects {raw / 1024:.1f} KB",
            "≤ 5 KB",
            ours <= 5 * 1024,
        ),
        Row(
            f"largest build-data page (200 of 300 codes) from the cache, median of {sizes.calls}",
            f"{figures['ours_page_us']:.0f} µs",
            f"re-parsing and cleaning the raw body per page {figures['baseline_page_us']:.0f} µs",
            "< 1 ms",
            figures["ours_page_us"] < 1000,
            timed=True,
        ),
    ]
