"""The real httpx client against the loopback fake: request shape, payload variants, error mapping."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate

import pytest

from tests import fake_autograb as fa
from tests.conftest import make_settings
from vin_mcp.autograb import client as client_module
from vin_mcp.autograb import constants
from vin_mcp.autograb.client import AutoGrabClient
from vin_mcp.autograb.config import AutoGrabConfig
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.autograb.transport import Transports
from vin_mcp.errors import (
    AuthenticationError,
    BadRequestError,
    MissingApiKeyError,
    RateLimitedError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    UpstreamFailedError,
    UpstreamTimeoutError,
)
from vin_mcp.settings import Settings
from vin_mcp.vin.identifiers import VinSearch

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def autograb(settings: Settings) -> AsyncIterator[AutoGrabClient]:
    async with Transports() as http:
        yield AutoGrabClient(http, AutoGrabConfig.from_settings(settings))


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "BACKOFF_BASE_SECONDS", 0.01)


async def test_search_sends_documented_request(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        asked = LookupRequest(
            search=VinSearch(vin=fa.POLO),
            region="nz",
            include_extended_data=True,
            prefer_more_results=True,
            reference_id="desk-7",
        )
        response = await api.search(asked)
    assert response.vehicle is not None and response.vehicle.model == "Polo"
    [request] = fake.calls()
    assert request.path == f"/v2/vehicles/vins/{fa.POLO}"
    assert request.query == {
        "region": "nz",
        "features": "additional_upstream_data",
        "prefer_more_results": "true",
        "reference_id": "desk-7",
    }
    assert request.headers["apikey"] == fa.API_KEY
    assert fa.API_KEY not in request.path


async def test_default_search_sends_only_region(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        await api.search(LookupRequest(search=VinSearch(vin=fa.POLO), region="au"))
    assert fake.calls()[0].query == {"region": "au"}


@pytest.mark.parametrize("vin", [fa.NO_MATCH_NULL, fa.NO_MATCH_BARE, fa.NO_MATCH_404, fa.MISSING_VEHICLE])
async def test_every_no_match_form_is_a_miss_not_an_error(fake: fa.FakeAutoGrab, vin: str) -> None:
    async with autograb(make_settings(fake)) as api:
        response = await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert response.vehicle is None
    assert response.additional_vehicles == []


async def test_no_match_keeps_registration_description(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        response = await api.search(LookupRequest(search=VinSearch(vin=fa.NO_MATCH_NULL), region="au"))
    assert response.upstream_vehicle == "1998 HOLDEN COMMODORE VT SEDAN"


async def test_schema_drift_is_tolerated(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        drift = await api.search(LookupRequest(search=VinSearch(vin=fa.DRIFT), region="au"))
        null_lists = await api.search(LookupRequest(search=VinSearch(vin=fa.DRIFT_NULL_LISTS), region="au"))
    assert drift.vehicle is not None
    assert drift.vehicle.year == "2010"  # a number in the payload
    assert drift.vehicle.capacity_cc == 1390  # "1,390" in the payload
    assert null_lists.vehicle is not None and null_lists.vehicle.options == []
    assert null_lists.additional_vehicles == []


@pytest.mark.parametrize(("uk", "region"), [(False, "au"), (True, "uk")])
async def test_extended_data_under_either_key(fake: fa.FakeAutoGrab, uk: bool, region: str) -> None:
    async with autograb(make_settings(fake)) as api:
        response = await api.search(
            LookupRequest(search=VinSearch(vin=fa.EXTENDED), region=region, include_extended_data=True)
        )
    assert response.registration_data is not None
    assert response.registration_data["make_code"] == "VOLKS"


async def test_build_data(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        response = await api.build_data(fa.BUILD, "au")
    assert response.vehicle is not None
    assert len(response.vehicle.features) == 300
    assert fake.calls()[0].path == f"/v2/vehicles/vins/{fa.BUILD}/build-data"


async def test_build_data_unsupported_is_none_whatever_the_status(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        assert (await api.build_data(fa.BUILD_UNSUPPORTED, "au")).vehicle is None
        assert (await api.build_data(fa.eu_vin(999), "au")).vehicle is None  # 404


async def test_build_data_error_envelope_with_200(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake)) as api:
        with pytest.raises(UpstreamFailedError, match="must be 17 characters"):
            await api.build_data(fa.BUILD_ERROR_200, "au")


async def test_no_key_never_sends(fake: fa.FakeAutoGrab) -> None:
    async with autograb(make_settings(fake, api_key=None)) as api:
        with pytest.raises(MissingApiKeyError, match="AUTOGRAB_API_KEY"):
            await api.search(LookupRequest(search=VinSearch(vin=fa.POLO), region="au"))
    assert fake.calls() == []


FAULT_CASES = [
    ("400_message", BadRequestError, "Region not enabled for this key", 1),
    ("400_bare", BadRequestError, "HTTP 400", 1),
    ("401", AuthenticationError, "rejected the API key", 1),
    ("403", AuthenticationError, "HTTP 403", 1),
    ("429_neither", RateLimitedError, "about 1 second", 3),  # the per-second window, waited out twice
    ("429_far", RateLimitedError, "about 60 seconds", 1),  # 120 s asked, clamped to 60
    ("500", ServiceUnavailableError, "HTTP 500", 3),
    ("502", ServiceUnavailableError, "HTTP 502", 3),
    ("503", ServiceUnavailableError, "HTTP 503", 3),
    ("504", ServiceUnavailableError, "HTTP 504", 3),
    ("reset", ServiceUnavailableError, "broke while it was answering", 1),
    ("hang", UpstreamTimeoutError, "within 0.5 seconds", 1),
    ("huge", UnexpectedResponseError, "exceeded", 1),
    ("truncated", UnexpectedResponseError, "not JSON", 1),
    ("html_200", UnexpectedResponseError, "not JSON", 1),
    ("error_envelope_200", UpstreamFailedError, "must be 17 characters", 1),
    ("success_false_error", UpstreamFailedError, "Quota exceeded", 1),
    ("vehicle_is_string", UnexpectedResponseError, "vehicle", 1),
    ("not_json_object", UnexpectedResponseError, "not a JSON object", 1),
]


@pytest.mark.parametrize(("fault", "error", "fragment", "attempts"), FAULT_CASES)
async def test_fault_matrix(
    fake: fa.FakeAutoGrab, fault: str, error: type[Exception], fragment: str, attempts: int
) -> None:
    vin = fa.FAULTS[fault]
    async with autograb(make_settings(fake, timeout=0.5)) as api:
        with pytest.raises(error) as caught:
            await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert fragment in str(caught.value)
    assert len(fake.calls(vin)) == attempts
    assert fa.API_KEY not in str(caught.value) and fa.API_KEY not in repr(caught.value)


async def test_transient_503_is_retried(fake: fa.FakeAutoGrab) -> None:
    vin = fa.FAULTS["flaky_503"]
    async with autograb(make_settings(fake)) as api:
        response = await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert response.vehicle is not None
    assert len(fake.calls(vin)) == 2


@pytest.mark.parametrize("fault", ["429_reset", "429_retry_after"])
async def test_short_rate_limit_waits_and_retries(fake: fa.FakeAutoGrab, fault: str) -> None:
    vin = fa.FAULTS[fault]
    async with autograb(make_settings(fake)) as api:
        response = await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert response.vehicle is not None
    assert len(fake.calls(vin)) == 2


async def test_connection_refused_is_retried_then_unavailable() -> None:
    settings = Settings(api_key="sec_x", base_url=f"http://127.0.0.1:{unused_port()}", timeout=1)
    async with autograb(settings) as api:
        with pytest.raises(ServiceUnavailableError, match="Could not connect"):
            await api.search(LookupRequest(search=VinSearch(vin=fa.POLO), region="au"))
        assert api.requests_sent == 3


async def test_exhausted_window_holds_the_next_call(fake: fa.FakeAutoGrab) -> None:
    """After the API says 0 remaining with a reset far off, the next call is refused unsent."""
    vin = fa.eu_vin(500)
    fake.script(
        "search",
        vin,
        fa.Reply(
            body=fa.match_body(vin, fa.vehicle()), headers={"Rate-Limit-Remaining": "0", "Rate-Limit-Reset": "@+60"}
        ),
    )
    async with autograb(make_settings(fake)) as api:
        await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
        with pytest.raises(RateLimitedError, match=r"reopens in about 6[01] seconds"):
            await api.search(LookupRequest(search=VinSearch(vin=fa.POLO), region="au"))
    assert len(fake.calls()) == 1


def unused_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_retries_stop_at_the_budget(fake: fa.FakeAutoGrab) -> None:
    """With the clock past the retry budget, a 503 is not retried however many retries remain."""
    now = [0.0]
    sleeps: list[float] = []

    def clock() -> float:
        return now[0]

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += constants.RETRY_BUDGET_SECONDS  # the first wait uses the whole budget

    vin = fa.FAULTS["503"]
    async with Transports() as http:
        api = AutoGrabClient(http, AutoGrabConfig.from_settings(make_settings(fake)), sleep=sleep, monotonic=clock)
        with pytest.raises(ServiceUnavailableError):
            await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert len(sleeps) == 1 and len(fake.calls(vin)) == 2
    assert constants.RETRY_BUDGET_SECONDS + 10 < 60  # budget plus a default timeout fits a client's 60 s


@pytest.mark.parametrize(
    ("reply", "error", "fragment"),
    [
        (
            fa.Reply(status=404, body=b"<html>Not Found</html>", content_type="text/html"),
            UnexpectedResponseError,
            "HTTP 404 without a JSON body",
        ),
        (
            fa.Reply(status=302, body=b"", headers={"Location": "http://127.0.0.1:9/login"}),
            UnexpectedResponseError,
            "HTTP 302",
        ),
        (fa.Reply(status=418, body=b"teapot", content_type="text/plain"), BadRequestError, "HTTP 418"),
        (
            fa.Reply(
                body={"success": True},
                headers={"Content-Length": str(constants.MAX_BODY_BYTES + 1)},
                action="declared_huge",
            ),
            UnexpectedResponseError,
            "exceeded",
        ),
    ],
)
async def test_odd_statuses_and_bodies(
    fake: fa.FakeAutoGrab, reply: fa.Reply, error: type[Exception], fragment: str
) -> None:
    vin = fa.eu_vin(800)
    fake.script("search", vin, reply)
    async with autograb(make_settings(fake)) as api:
        with pytest.raises(error, match=fragment):
            await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert len(fake.calls(vin)) == 1


async def test_retry_after_as_an_http_date(fake: fa.FakeAutoGrab) -> None:
    vin = fa.eu_vin(801)
    in_two_minutes = formatdate(time.time() + 120, usegmt=True)
    fake.script("search", vin, fa.Reply(status=429, headers={"Retry-After": in_two_minutes}))
    async with autograb(make_settings(fake)) as api:
        with pytest.raises(RateLimitedError) as caught:
            await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    # Two minutes away, clamped to the 60 s that one header may close the window for.
    assert caught.value.retry_after_seconds is not None and 59 < caught.value.retry_after_seconds <= 60


@pytest.mark.parametrize(
    ("message", "advice"),
    [
        ("Region not enabled for this key", "ask AutoGrab to enable it"),
        ("Feature additional_upstream_data is not part of your plan", "ask AutoGrab to enable it"),
        ("Invalid VIN format", "Re-read the VIN"),
        ("Something else went wrong", "this is not a 'no match'"),
    ],
)
async def test_each_400_gets_advice_that_fits_its_message(fake: fa.FakeAutoGrab, message: str, advice: str) -> None:
    vin = fa.eu_vin(810)
    fake.script("search", vin, fa.Reply(status=400, body={"error": True, "message": message}))
    async with autograb(make_settings(fake)) as api:
        with pytest.raises(BadRequestError) as caught:
            await api.search(LookupRequest(search=VinSearch(vin=vin), region="au"))
    assert f'"{message}"' in caught.value.message and advice in caught.value.hint
