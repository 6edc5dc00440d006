"""Several replicas, one bill: answers, single-flight and the rate-limit window shared on a real Redis, failing open."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import SecretStr

from tests import fake_autograb as fa
from tests.conftest import make_settings
from tests.redis_server import RedisServer
from tests.replicas import http_client, replica
from vin_mcp import shared_store
from vin_mcp.answers.lookup import lookup_answer
from vin_mcp.service import VinService, open_service
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def replicas(*settings: Settings) -> AsyncIterator[list[VinService]]:
    """In-process replicas: each its own service, local cache and HTTP client."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_service(s)) for s in settings]


def shared(fake: fa.FakeAutoGrab, redis: RedisServer, **overrides: Any) -> Settings:
    return make_settings(fake, redis_url=SecretStr(redis.url), **overrides)


def stored_keys(redis: RedisServer) -> list[str]:
    reply = redis.command("KEYS", "*").decode(errors="replace")
    return [line for line in reply.split("\r\n") if line and not line.startswith(("*", "$"))]


async def test_concurrent_lookups_over_replicas_pay_once(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    fake.latency = 0.3  # every replica's first call is under way before the first answer is back
    async with replicas(*(shared(fake, redis) for _ in range(3))) as services:
        answers = []

        async def one(n: int) -> None:
            answers.append(await services[n % 3].lookup(fa.RICH))

        async with anyio.create_task_group() as tg:
            for n in range(100):
                tg.start_soon(one, n)
    assert len(fake.calls(fa.RICH)) == 1
    assert len(answers) == 100 and {a.vehicle.model if a.vehicle else None for a in answers} == {"Golf"}
    # One caller paid; every other answer says it came from the cache (not billed again).
    assert sum(a.cached_minutes_ago is None for a in answers) == 1


async def test_a_new_replica_answers_from_redis_without_paying(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    async with replicas(shared(fake, redis)) as (first,):
        paid = await first.lookup(fa.CANDIDATES)
    async with replicas(shared(fake, redis)) as (later,):
        facts = await later.lookup_facts(fa.CANDIDATES)
    assert len(fake.calls(fa.CANDIDATES)) == 1
    answer = lookup_answer(facts)
    assert answer.candidates == paid.candidates and len(answer.candidates) == 3
    assert answer.cached_minutes_ago is not None


async def test_build_data_is_shared_too(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    async with replicas(shared(fake, redis), shared(fake, redis)) as (one, two):
        first = await one.build_data(fa.BUILD)
        second = await two.build_data(fa.BUILD)
    assert first.codes == second.codes and len(fake.calls(fa.BUILD)) == 1
    assert second.cached_minutes_ago is not None


async def test_a_miss_is_kept_briefly_and_ttls_are_todays(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    async with replicas(shared(fake, redis)) as (service,):
        await service.lookup(fa.RICH)
        await service.lookup(fa.NO_MATCH_BARE)
    store = service.store
    assert store is not None

    def ttl(vin: str) -> int:
        return int(redis.command("PTTL", store.key_name("answer", f"lookup:vin:{vin}:au:false:false")).strip(b":\r\n"))

    assert 86_000_000 < ttl(fa.RICH) <= 86_400_000  # VIN_MCP_CACHE_TTL
    assert 500_000 < ttl(fa.NO_MATCH_BARE) <= 600_000  # a miss: ten minutes


async def test_two_api_keys_on_one_redis_share_nothing(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    other = fa.FakeAutoGrab(api_key="sec_other_customer_0123456789").start()
    try:
        mine = shared(fake, redis)
        theirs = make_settings(other, api_key=SecretStr(other.api_key), redis_url=SecretStr(redis.url))
        async with replicas(mine, theirs) as (one, two):
            await one.lookup(fa.RICH)
            await two.lookup(fa.RICH)
        assert len(fake.calls(fa.RICH)) == 1 and len(other.calls(fa.RICH)) == 1  # each deployment paid its own
    finally:
        other.stop()
    keys = stored_keys(redis)
    namespaces = {key.split(":")[2] for key in keys}
    assert len(namespaces) == 2 and all(key.startswith("vin-mcp:v2:") for key in keys)
    dump = b"".join(redis.command("GET", key) for key in keys if ":answer:" in key) + "".join(keys).encode()
    for key in (fa.API_KEY, other.api_key):
        assert key.encode() not in dump
        assert hashlib.sha256(key.encode()).hexdigest().encode() not in dump
        assert hashlib.sha256(key.encode()).hexdigest()[:32].encode() not in dump


async def test_a_flushed_redis_is_a_miss_not_an_error(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    async with replicas(shared(fake, redis), shared(fake, redis)) as (one, two):
        await one.lookup(fa.RICH)
        redis.command("FLUSHALL")
        answer = await two.lookup(fa.RICH)  # gone from Redis, not in this replica's memory: paid again
        again = await one.lookup(fa.RICH)  # still in the first replica's own memory
    assert answer.vehicle is not None and again.cached_minutes_ago is not None
    assert len(fake.calls(fa.RICH)) == 2 and one.cache_backend() == two.cache_backend() == "redis (up)"


async def test_a_rate_limit_learned_by_one_replica_holds_back_the_others(
    fake: fa.FakeAutoGrab, redis: RedisServer
) -> None:
    limited = fa.eu_vin(50)
    ok = fa.Reply(body=fa.match_body(limited, fa.vehicle()))
    fake.script("search", limited, fa.Reply(status=429, headers={"Retry-After": "2"}), ok)
    async with replicas(shared(fake, redis), shared(fake, redis)) as (one, two), anyio.create_task_group() as tg:
        tg.start_soon(one.lookup, limited)  # learns the 429, waits 2 s, then gets its answer
        while not any(key.endswith(":window") for key in stored_keys(redis)):  # noqa: ASYNC110 - polled
            await anyio.sleep(0.01)
        started = time.monotonic()
        await two.lookup(fa.POLO)  # another VIN, another replica: still inside the closed window
        waited = time.monotonic() - started
    assert waited >= 1.5
    assert len(fake.calls(limited)) == 2 and len(fake.calls(fa.POLO)) == 1


async def test_a_window_far_off_in_redis_is_clamped(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    async with replicas(shared(fake, redis)) as (service,):
        store = service.store
        assert store is not None
        await store.close_window_until(time.time() + 3_600)  # a replica that believed an absurd header
        pacer = service.client().pacer
        await pacer.sync()
        assert 59 <= pacer.closed_for() <= 60


async def test_redis_killed_mid_run_every_call_is_answered(
    fake: fa.FakeAutoGrab, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_store, "RETRY_AFTER_SECONDS", 0.3)
    redis = RedisServer(tmp_path).start()
    caplog.set_level(logging.WARNING, logger="vin_mcp.shared_store")
    try:
        async with replicas(shared(fake, redis)) as (service,):
            assert (await service.lookup(fa.RICH)).vehicle is not None
            assert service.cache_backend() == "redis (up)"
            redis.kill()
            answers = [await service.lookup(vin) for vin in (fa.POLO, fa.CANDIDATES, fa.REDUCED, fa.RICH)]
            assert service.cache_backend() == "redis (down)"
            assert [a.status for a in answers] == ["matched", "candidates", "unconfirmed", "matched"]
            RedisServer(tmp_path, redis.port).start()
            await anyio.sleep(0.4)
            assert (await service.lookup(fa.WRITTEN_OFF)).vehicle is not None
            assert service.cache_backend() == "redis (up)"
    finally:
        redis.kill()
        RedisServer(tmp_path, redis.port).command("SHUTDOWN", "NOSAVE")
    lines = [r.getMessage() for r in caplog.records if r.name == "vin_mcp.shared_store"]
    assert len([line for line in lines if "unreachable" in line]) == 1
    assert len([line for line in lines if "reachable again" in line]) == 1
    assert all(fa.API_KEY not in line for line in lines)


@contextmanager
def silent_redis() -> Iterator[str]:
    """A Redis that accepts connections and never answers: the worst kind of slow."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


async def test_a_silent_redis_never_holds_a_call(fake: fa.FakeAutoGrab, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="vin_mcp.shared_store")
    with silent_redis() as url:
        async with replicas(make_settings(fake, redis_url=SecretStr(url))) as (service,):
            started = time.monotonic()
            first = await service.lookup(fa.RICH)
            first_took = time.monotonic() - started
            started = time.monotonic()
            second = await service.lookup(fa.POLO)  # the outage is known: Redis is not tried again yet
            second_took = time.monotonic() - started
    assert first.vehicle is not None and second.vehicle is not None
    # Bounded, not fast: a generous ceiling that a hang (no timeout at all) would blow through.
    assert first_took < 5 and second_took < 5
    assert service.cache_backend() == "redis (down)"
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


async def test_the_health_probe_reports_the_cache_backend(fake: fa.FakeAutoGrab, redis: RedisServer) -> None:
    import httpx

    with replica(fake, VIN_MCP_REDIS_URL=redis.url) as server:
        async with httpx.AsyncClient(timeout=10) as http:
            health = (await http.get(server.url.removesuffix("/mcp") + "/health")).json()
    assert health["cache"] == "redis (up)"
    assert redis.url not in str(health)


async def test_three_http_replicas_100_concurrent_lookups_one_upstream_request(
    fake: fa.FakeAutoGrab, redis: RedisServer
) -> None:
    fake.latency = 0.3
    with (
        replica(fake, VIN_MCP_REDIS_URL=redis.url) as a,
        replica(fake, VIN_MCP_REDIS_URL=redis.url) as b,
        replica(fake, VIN_MCP_REDIS_URL=redis.url) as c,
    ):
        async with http_client(a.url) as ca, http_client(b.url) as cb, http_client(c.url) as cc:
            clients = [ca, cb, cc]
            statuses: list[str] = []

            async def one(n: int) -> None:
                result = await clients[n % 3].call_tool("lookup_vin", {"vin": fa.RICH})
                assert not result.is_error, result
                statuses.append((result.structured_content or {})["status"])

            async with anyio.create_task_group() as tg:
                for n in range(100):
                    tg.start_soon(one, n)
    assert statuses == ["matched"] * 100
    assert len(fake.calls(fa.RICH)) == 1, a.log + b.log + c.log


async def test_a_crashed_lock_holder_is_replaced_when_its_lock_expires(
    fake: fa.FakeAutoGrab, redis: RedisServer
) -> None:
    """The replica paying for a VIN dies mid-call (SIGKILL): another completes the lookup once the lock, no longer
    renewed, expires: within seconds, not after the call budget (issue 20: 59 s with AUTOGRAB_TIMEOUT=30)."""
    import httpx

    fake.latency = 2.0
    params = {"name": "lookup_vin", "arguments": {"vin": fa.RICH}}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
    with replica(fake, VIN_MCP_REDIS_URL=redis.url, AUTOGRAB_TIMEOUT="30") as doomed:
        async with httpx.AsyncClient(timeout=30) as http, anyio.create_task_group() as tg:

            async def call_then_lose_it() -> None:
                with pytest.raises(httpx.HTTPError):  # the connection dies with the replica
                    await http.post(doomed.url, json=call, headers=headers)

            tg.start_soon(call_then_lose_it)
            while not fake.calls(fa.RICH):  # noqa: ASYNC110 - the fake runs in a thread: polled
                await anyio.sleep(0.01)
            assert any(":lock:" in key for key in stored_keys(redis))
            doomed.kill()
    fake.latency = 0.0
    async with replicas(shared(fake, redis, timeout=30.0)) as (survivor,):
        started = time.monotonic()
        answer = await survivor.lookup(fa.RICH)
        waited = time.monotonic() - started
    assert answer.vehicle is not None and answer.cached_minutes_ago is None  # it paid, once the lock went
    assert waited < shared_store.LOCK_SECONDS + 1.5  # the call budget would be 25 + 30 s
    assert len(fake.calls(fa.RICH)) == 2  # the dead replica's request (billed) and the survivor's


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"VIN_MCP_REDIS_URL": "http://:hunter2@cache:6379"}, "must start with redis:// or rediss://"),
        ({"VIN_MCP_REDIS_URL": "cache:6379"}, "must start with redis:// or rediss://"),
    ],
)
def test_a_bad_redis_url_is_one_line_without_the_password(env: dict[str, str], says: str) -> None:
    from vin_mcp.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert says in str(caught.value) and "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_a_password_in_the_url_or_alone_is_redacted() -> None:
    from vin_mcp.redaction import Redactor

    settings = Settings.from_env(
        {"VIN_MCP_REDIS_URL": "rediss://:url-secret-123456@cache:6380/0", "VIN_MCP_REDIS_PASSWORD": "alone-secret-9876"}
    )
    redactor = Redactor(settings.secrets())
    said = redactor.text("failed: url-secret-123456 and alone-secret-9876")
    assert "url-secret" not in said and "alone-secret" not in said
    assert "url-secret-123456" not in repr(settings)
