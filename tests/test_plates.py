"""Looking a vehicle up by its number plate (issue 21): the same answers as a VIN over every transport, its own
rules, its own cache entries, and the answer pipeline's two old bugs held fixed."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import anyio
import pytest
from mcp import Client

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from tests.test_golden import CASES, GOLDEN, PLATE_GOLDENS
from tests.test_http import serving
from tests.test_operator import INITIALIZE, clean_env, converse
from tests.test_stdout import call
from vin_mcp.cli.main import THIRD_PARTY_LOGGERS
from vin_mcp.mcp_server.http_settings import HttpSettings
from vin_mcp.mcp_server.server import create_server
from vin_mcp.settings import Settings
from vin_mcp.vin.identifiers import PLATE_MAX, PlateSearch, validate_plate

pytestmark = pytest.mark.anyio


def golden(name: str) -> dict[str, Any]:
    return dict(json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8")))


def cli_args(arguments: dict[str, Any]) -> list[str]:
    args = ["plate", arguments["plate"], "--json"]
    if arguments.get("state"):
        args += ["--state", arguments["state"]]
    if arguments.get("prefer_more_results"):
        args.append("--candidates")
    if arguments.get("include_extended_data"):
        args.append("--extended")
    return args


# --- the same answers over stdio, HTTP and the command line --------------------------------------------------


def test_every_plate_golden_over_stdio_and_the_command_line(fake: fa.FakeAutoGrab) -> None:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url)
    lines = [*INITIALIZE]
    for n, name in enumerate(PLATE_GOLDENS):
        lines.append(call(10 + n, "lookup_registration", **CASES[name][1]))
    answers, _, _ = converse(env, lines)
    for n, name in enumerate(PLATE_GOLDENS):
        assert answers[10 + n]["result"]["structuredContent"] == golden(name), name
        done = subprocess.run(
            [sys.executable, "-m", "vin_mcp", *cli_args(CASES[name][1])], env=env, capture_output=True, text=True
        )
        assert json.loads(done.stdout) == golden(name), name
        status = golden(name)["status"]
        confident = status == "matched" and golden(name)["confidence"]["level"] == "high"
        assert done.returncode == (0 if confident else 3 if status == "no_match" else 1), (name, done.returncode)


async def test_every_plate_golden_over_http(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    with serving(settings, HttpSettings()) as base:
        http_client = httpx2.AsyncClient(timeout=30)
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http_client)) as client:
            for name in PLATE_GOLDENS:
                result = await client.call_tool("lookup_registration", CASES[name][1])
                assert result.structured_content == golden(name), name


# --- what a plate is, checked locally ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plate"), [("abc 123", "ABC123"), ("1-ABC-23", "1ABC23"), ("X", "X"), ("reg4successev", "REG4SUCCESSEV")]
)
def test_plates_are_letters_and_digits_in_upper_case(raw: str, plate: str) -> None:
    assert validate_plate(raw) == plate


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"plate": "AB!C", "state": "VIC"}, "the plate has '!' in it"),
        ({"plate": "A" * (PLATE_MAX + 1), "state": "VIC"}, f"the plate has {PLATE_MAX + 1} characters"),
        ({"plate": " - ", "state": "VIC"}, "no plate was given"),
        ({"plate": "ABC123"}, "an Australian plate needs its state"),
        ({"plate": "ABC123", "state": "Victoria"}, "state is 'VICTORIA'"),
        ({"plate": "ABC123", "state": "VIC", "region": "nz"}, "NZ plates have no state"),
        ({"plate": "ABC123", "state": "VIC", "region": "uk"}, "UK plates have no state"),
        ({"plate": "ABCIOQ", "state": "VIC", "region": "au"}, None),  # letters a VIN never has are fine on a plate
    ],
)
async def test_a_plate_is_refused_only_for_its_shape_and_state(
    fake: fa.FakeAutoGrab, settings: Settings, arguments: dict[str, Any], says: str | None
) -> None:
    async with connect(settings) as client:
        result = await client.call_tool("lookup_registration", arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    if says is None:
        assert not result.is_error and len(fake.calls()) == 1
        return
    assert result.is_error and says in text and "\n" not in text
    assert "character 10" not in text and "VIN" not in text  # never the VIN decoder's advice
    assert "AB!C" not in text  # the plate itself is not repeated (personal data in the UK)
    assert fake.calls() == []


async def test_nz_and_uk_plates_are_searched_without_a_state(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        result = await client.call_tool("lookup_registration", {"plate": "REG4SUCCESS", "region": "nz"})
    assert not result.is_error
    (request,) = fake.calls("REG4SUCCESS")
    assert request.path == "/v2/vehicles/registrations/REG4SUCCESS"
    assert request.query == {"region": "nz"}


async def test_a_plate_miss_is_a_miss_and_a_failure_a_failure(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        miss = await client.call_tool("lookup_registration", {"plate": "NOSUCH1", "state": "VIC"})
        fake.storm = fa.Reply(status=503, body=b"<html>down</html>", content_type="text/html")
        down = await client.call_tool("lookup_registration", {"plate": "REG4SUCCESS", "state": "VIC"})
    answer = miss.structured_content or {}
    assert answer["status"] == "no_match" and "AutoGrab gave no VIN for this plate" in answer["confidence"]["advice"]
    assert "vin" not in answer
    assert down.is_error and "not a 'no match'" in down.content[0].text  # type: ignore[union-attr]


async def test_without_a_key_a_plate_says_so(fake: fa.FakeAutoGrab) -> None:
    async with connect(make_settings(fake, api_key=None)) as client:
        result = await client.call_tool("lookup_registration", {"plate": "REG4SUCCESS", "state": "VIC"})
    assert result.is_error and "AUTOGRAB_API_KEY" in result.content[0].text  # type: ignore[union-attr]


# --- a plate and a VIN share nothing they should not -------------------------------------------------------------


async def test_a_plate_and_a_vin_of_one_vehicle_cost_one_call_each(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        by_plate = [
            await client.call_tool("lookup_registration", {"plate": "REG4SUCCESS", "state": "VIC"}) for _ in range(2)
        ]
        by_vin = [await client.call_tool("lookup_vin", {"vin": fa.RICH}) for _ in range(2)]
        other_state = await client.call_tool("lookup_registration", {"plate": "REG4SUCCESS", "state": "NSW"})
    assert len(fake.calls("REG4SUCCESS")) == 2 and len(fake.calls(fa.RICH)) == 1  # VIC, NSW; the VIN once
    assert "cached_minutes_ago" not in (by_plate[0].structured_content or {})
    assert "cached_minutes_ago" in (by_plate[1].structured_content or {})
    assert "cached_minutes_ago" not in (by_vin[0].structured_content or {})  # not served from the plate's entry
    assert "plate" not in (by_vin[0].structured_content or {})
    assert (other_state.structured_content or {})["state"] == "NSW"


async def test_concurrent_plate_lookups_share_one_call(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    fake.latency = 0.3
    async with connect(settings) as client, anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(client.call_tool, "lookup_registration", {"plate": "REG4SUCCESS", "state": "VIC"})
    assert len(fake.calls("REG4SUCCESS")) == 1


# --- the person settles a doubtful plate answer, at no extra cost ------------------------------------------------


class Pick:
    def __init__(self, choice: str) -> None:
        self.choice, self.asked = choice, ""

    async def __call__(self, context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult

        self.asked = params.message
        return ElicitResult(action="accept", content={"choice": self.choice})


async def test_a_person_picks_a_candidate_for_a_plate(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    person = Pick("2")
    arguments = {"plate": "CAND1", "state": "VIC", "prefer_more_results": True}
    async with Client(create_server(settings), elicitation_callback=person) as client:
        result = await client.call_tool("lookup_registration", arguments)
    answer = result.structured_content or {}
    assert "plate CAND1 VIC" in person.asked and "VIN" not in person.asked
    assert answer["status"] == "user_confirmed" and answer["vehicle"]["badge"] == "Trendline"
    assert answer["vin"] == fa.CANDIDATES and len(fake.calls("CAND1")) == 1


def test_the_command_line_plate_command(fake: fa.FakeAutoGrab) -> None:
    env = clean_env(AUTOGRAB_API_KEY=fa.API_KEY, AUTOGRAB_BASE_URL=fake.url)
    done = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "plate", "reg4 success", "--state", "vic"],
        env=env,
        capture_output=True,
        text=True,
    )
    refused = subprocess.run(
        [sys.executable, "-m", "vin_mcp", "plate", "ABC123", "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("Plate REG4SUCCESS VIC (AU), VIN WVWZZZ1KZKU000001: matched")
    assert "vin-mcp build-data takes it" in done.stdout  # the tool's name said as the command
    assert refused.returncode == 2 and json.loads(refused.stdout)["error"] == "InvalidArgumentError"


# --- the pipeline's two old bugs --------------------------------------------------------------------------------


async def test_the_difference_advice_is_said_once(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    """A registry-colour note and a record disagreement together used to say "Mention the difference…" twice."""
    vin = fa.eu_vin(9_900)
    record = {"make_code": "VOLKS", "color_description": "WHITE"}
    body = fa.match_body(
        vin, fa.vehicle(), colour="Black", upstream_vehicle="2010 VOLKSWAGEN POLO GREY", extended_data=record
    )
    fake.script("search", vin, fa.Reply(body=body))
    async with connect(settings) as client:
        result = await client.call_tool("lookup_vin", {"vin": vin, "include_extended_data": True})
    advice = (result.structured_content or {})["confidence"]["advice"]
    assert (
        advice.count("Mention the difference") == 1
        and (result.structured_content or {})["registration_record_disagrees"]
    )


async def test_a_plain_lookup_from_an_extended_ones_cache_is_a_plain_answer() -> None:
    """Served from an earlier extended lookup's cache, a plain lookup used to keep "Mention the difference…" with
    no difference left in it, and to drop the test-data note."""
    demo = fa.FakeAutoGrab(demo=True).start()
    try:
        async with connect(make_settings(demo)) as client:
            extended = await client.call_tool("lookup_vin", {"vin": fa.EXTENDED, "include_extended_data": True})
            plain = await client.call_tool("lookup_vin", {"vin": fa.EXTENDED})
        calls = len(demo.calls(fa.EXTENDED))
    finally:
        demo.stop()
    wide, narrow = extended.structured_content or {}, plain.structured_content or {}
    assert "Mention the difference" in wide["confidence"]["advice"] and wide["registration_record_disagrees"]
    assert "registration_record" not in narrow and "registration_record_disagrees" not in narrow
    assert "Mention the difference" not in narrow["confidence"]["advice"]
    assert "Test data" in narrow["note"] and "cached_minutes_ago" in narrow
    assert calls == 1


async def test_plates_never_reach_the_log_above_debug(
    fake: fa.FakeAutoGrab, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with Client(create_server(settings), elicitation_callback=Pick("no")) as client:
        await client.call_tool("lookup_registration", {"plate": "REG4WARNING", "state": "VIC"})
        await client.call_tool("lookup_registration", {"plate": "ZZ!9", "state": "VIC"})
    # httpx logs each request URL at INFO; vin-mcp keeps it at WARNING unless DEBUG (cli.main.THIRD_PARTY_LOGGERS).
    ours = [r for r in caplog.records if r.name.split(".")[0] not in THIRD_PARTY_LOGGERS]
    assert ours and all("REG4WARNING" not in r.getMessage() and "ZZ!9" not in r.getMessage() for r in ours)


def test_a_search_names_its_kind() -> None:
    search = PlateSearch.parse("abc 123", "vic", "au")
    assert (search.label(), search.key(), search.searched_vin) == ("plate ABC123 VIC", ("plate", "ABC123", "VIC"), None)
