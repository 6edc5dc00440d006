"""The tools through the MCP SDK's client, in memory, against the loopback fake."""

from __future__ import annotations

from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client
from mcp.types import CallToolResult

from tests import fake_autograb as fa
from tests.conftest import connect, make_settings
from vin_mcp.autograb import client as client_module
from vin_mcp.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "BACKOFF_BASE_SECONDS", 0.01)


def text(result: CallToolResult) -> str:
    assert result.content and result.content[0].type == "text"
    return result.content[0].text


async def lookup(client: Client, vin: str, **args: Any) -> CallToolResult:
    return await client.call_tool("lookup_vin", {"vin": vin, **args})


async def test_tools_are_listed_with_schemas_and_annotations(settings: Settings) -> None:
    async with connect(settings) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"lookup_vin", "lookup_registration", "get_factory_build_data"}
    for tool in tools.values():
        assert tool.output_schema is not None
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.annotations.open_world_hint is True
    for name in ("lookup_vin", "get_factory_build_data"):
        assert tools[name].input_schema["required"] == ["vin"]
    assert tools["lookup_registration"].input_schema["required"] == ["plate"]
    assert set(tools["lookup_registration"].input_schema["properties"]) == {
        "plate",
        "state",
        "region",
        "include_extended_data",
        "prefer_more_results",
    }
    assert set(tools["lookup_vin"].input_schema["properties"]) == {
        "vin",
        "region",
        "include_extended_data",
        "prefer_more_results",
    }
    assert set(tools["get_factory_build_data"].input_schema["properties"]) == {
        "vin",
        "region",
        "search",
        "limit",
        "offset",
    }


async def test_match_is_condensed_and_high_confidence(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        result = await lookup(client, "wvw zzz6rz-au020000", region="nz")
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert data["status"] == "matched"
    assert data["vin"] == fa.POLO and data["region"] == "nz"
    assert data["vehicle"] == {
        "year": 2010,
        "make": "Volkswagen",
        "model": "Polo",
        "badge": "Comfortline",
        "series": "6R",
        "body": "Hatchback",
        "doors": 5,
        "seats": 5,
        "transmission": "Dual Clutch Automatic (DCT)",
        "fuel": "Petrol",
        "drive": "Front Wheel Drive",
        "engine_cc": 1390,
        "cylinders": 4,
        "power_kw": 63,
        "torque_nm": 132,
        # Available for the variant, priced in the region's currency; build data (VW) can say what was fitted.
        "available_options": {
            "fitted": "not confirmed; get_factory_build_data can confirm",
            "currency": "NZD",
            "list_prices": {"Paint - Black": 1500},
        },
    }
    assert data["confidence"] == {
        "level": "high",
        "autograb": "standard",
        "advice": "Safe to tell the user this is the vehicle.",
    }
    # Behind a sure match: no VIN decode, no registry text repeating the vehicle, no fetch time.
    assert set(data) == {"status", "vin", "region", "vehicle", "confidence", "colour", "write_off"}
    assert data["colour"] == "Black"
    assert data["write_off"] == {"summary": "None recorded."}
    assert "id" not in data["vehicle"]  # ids the assistant cannot use are dropped
    assert "Volkswagen Polo" in text(result) and "confidence high" in text(result)
    assert "Advice: Safe to tell the user this is the vehicle." in text(result)
    options_line = (
        "Option packs available for this variant (fitted: not confirmed; get_factory_build_data can confirm), "
        'NZD list prices: "Paint - Black 1500"'
    )
    assert options_line in text(result)
    assert fake.calls()[0].query["region"] == "nz"


@pytest.mark.parametrize(
    ("vin", "level", "reason"),
    [
        (fa.REDUCED, "low", '"reduced": not reliable'),
        (fa.NA_BAD_CHECK, "low", "check digit (position 9) should be '3'"),
        (fa.MAKE_MISMATCH, "low", 'belongs to Toyota, but the match is a "Volkswagen"'),
        (fa.YEAR_MISMATCH, "low", "encodes model year 2005, but the match is a 2012"),
        (fa.NO_CONFIDENCE, "medium", "did not state its confidence"),
        (fa.NA_GOOD, "high", None),
    ],
)
async def test_confidence_reasons(settings: Settings, vin: str, level: str, reason: str | None) -> None:
    async with connect(settings) as client:
        result = await lookup(client, vin)
    confidence = result.structured_content["confidence"]
    assert confidence["level"] == level
    if reason:
        assert any(reason in r for r in confidence["reasons"]), confidence["reasons"]
        assert "confirm" in confidence["advice"]
        assert "registry text" in confidence["advice"]
        assert "Advice: " + confidence["advice"] in text(result)
        assert all(r in text(result).splitlines()[0] for r in confidence["reasons"])
    else:
        assert confidence.get("reasons", []) == []
    # A doubted or contradicted match is not presented as the vehicle, in either channel.
    data = result.structured_content
    if level == "low":
        assert data["status"] == "unconfirmed" and "vehicle" not in data and "unconfirmed_vehicle" in data
        assert "UNCONFIRMED match" in text(result) and "\nVehicle:" not in text(result)
        assert "Do not present this as the vehicle" in confidence["advice"]
    else:
        assert data["status"] == "matched" and "vehicle" in data


async def test_candidates_best_first(settings: Settings) -> None:
    async with connect(settings) as client:
        result = await lookup(client, fa.CANDIDATES, prefer_more_results=True)
    data = result.structured_content
    assert data is not None
    assert data["status"] == "candidates"
    # All three vehicles in play, best first: AutoGrab's own match, then the two others.
    assert len(data["candidates"]) == 3
    assert data["candidates"][0].startswith("2010 Volkswagen Polo Comfortline (")
    assert data["candidates"][1].startswith("2010 Volkswagen Polo Trendline (")
    assert "Manual" in data["candidates"][1] and "1197 cc" in data["candidates"][2]
    assert data["confidence"]["level"] == "low" and "which one" in data["confidence"]["advice"]
    # No vehicle is shown apart from the list as if it were the answer.
    assert "vehicle" not in data and "unconfirmed_vehicle" not in data and "Vehicle:" not in text(result)
    assert 'Candidates (best first):\n1. "2010 Volkswagen Polo Comfortline (' in text(result)
    assert '\n3. "2010 Volkswagen Polo 77 TSI Comfortline' in text(result)


@pytest.mark.parametrize("vin", [fa.NO_MATCH_NULL, fa.NO_MATCH_BARE, fa.NO_MATCH_404, fa.MISSING_VEHICLE])
async def test_no_match_is_said_plainly(settings: Settings, vin: str) -> None:
    async with connect(settings) as client:
        result = await lookup(client, vin)
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert data["status"] == "no_match" and "vehicle" not in data
    assert "level" not in data["confidence"]  # "no_match" says it
    assert data["confidence"]["advice"].startswith("Say no vehicle matched; the user should re-check the VIN")
    assert "reasons" not in data["confidence"]  # "no_match" says it
    assert text(result).startswith(f"VIN {vin} (AU): NO MATCH")
    assert "\nAdvice: Say no vehicle matched; the user should re-check the VIN" in text(result)


async def test_no_match_shows_what_the_authority_described(settings: Settings) -> None:
    async with connect(settings) as client:
        result = await lookup(client, fa.NO_MATCH_NULL)
    data = result.structured_content
    assert data["registry_description_unverified"] == "1998 HOLDEN COMMODORE VT SEDAN"
    assert 'Registry text (unverified): "1998 HOLDEN COMMODORE VT SEDAN"' in text(result)
    # Beside it, the maker the VIN names (another one here): both channels set the two side by side.
    assert data["vin_decode"] == {"manufacturer": "Volkswagen"}
    assert text(result).endswith(
        'Registry text (unverified): "1998 HOLDEN COMMODORE VT SEDAN".\nVIN decode: Volkswagen.'
    )


async def test_write_off_history(settings: Settings) -> None:
    async with connect(settings) as client:
        result = await lookup(client, fa.WRITTEN_OFF)
    write_off = result.structured_content["write_off"]
    assert write_off["summary"] == "Recorded as written off twice."  # vin-mcp's words; the rest is AutoGrab's
    assert write_off["incidents"][0]["odometer_km"] == 84000
    assert (
        'Write-off: Recorded as written off twice. "Repairable Write-off" (type "Collision"; damage "FRONT"; odometer '
        '84000 km) recorded in "NSW" on "2019-06-14".' in text(result)
    )
    # A sure match, but the advice says there is a write-off to tell, in both channels.
    assert "write-off is on record" in result.structured_content["confidence"]["advice"]
    assert "Advice: Safe to tell the user this is the vehicle. A write-off is on record" in text(result)
    assert write_off["incidents"][1] == {
        "category": "Statutory Write-off",
        "type": "Flood",
        "damage": "REAR",
        "jurisdiction": "VIC",
        "date": "2021-02-01",
    }


async def test_write_off_unknown_is_not_reported_as_clean(settings: Settings) -> None:
    async with connect(settings) as client:
        result = await lookup(client, fa.REDUCED)
    assert result.structured_content["write_off"]["summary"] == "Unknown: AutoGrab did not report it."
    assert "Write-off: Unknown: AutoGrab did not report it." in text(result)


@pytest.mark.parametrize("region", ["au", "uk"])
async def test_extended_data_when_asked(fake: fa.FakeAutoGrab, settings: Settings, region: str) -> None:
    async with connect(settings) as client:
        plain = await lookup(client, fa.EXTENDED, region=region)
        extended = await lookup(client, fa.EXTENDED, region=region, include_extended_data=True)
    assert "registration_record" not in plain.structured_content
    data = extended.structured_content["registration_record"]
    assert data["make_code"] == "VOLKS"
    assert data["vehicle_type_description"] == "PASSENGER CAR"  # control character stripped
    assert fake.calls()[-1].query["features"] == "additional_upstream_data"
    # Labelled as the registration record, and its disagreements with the match noted, in both channels.
    disagrees = extended.structured_content["registration_record_disagrees"]
    assert disagrees == [
        'The registration record\'s body is "CAR/SEDAN", the match\'s is "Hatchback".',
        'The registration record\'s colour is "WHITE", the match\'s is "Black".',
    ]  # "VOLKS" and "Volkswagen" agree
    assert 'Registration record (the authority\'s own, unverified): "body type description" is "CAR/SEDAN";' in text(
        extended
    )
    assert "Registration record disagrees: The registration record's body is" in text(extended)
    # A sure match otherwise: the advice says to mention the differences.
    assert "Mention the difference this answer notes." in extended.structured_content["confidence"]["advice"]


async def test_extended_data_missing_is_noted(settings: Settings) -> None:
    async with connect(settings) as client:
        result = await lookup(client, fa.POLO, include_extended_data=True)
    assert "not returned" in result.structured_content["note"]


async def test_without_key_lookup_decodes_offline(fake: fa.FakeAutoGrab) -> None:
    async with connect(make_settings(fake, api_key=None)) as client:
        result = await lookup(client, "1HGCM82633A004352")
        build = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD})
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert data["status"] == "vin_decode_only"
    assert data["vin_decode"] == {
        "manufacturer": "Honda",
        "country": "United States",
        "check_digit": "valid",
        "model_years": [2003],
    }
    assert any("AUTOGRAB_API_KEY is not set" in reason for reason in data["confidence"]["reasons"])
    assert build.is_error and "AUTOGRAB_API_KEY" in text(build)
    assert fake.calls() == []


@pytest.mark.parametrize(
    ("vin", "fragment"),
    [
        ("1HGCM8263OA004352", "character 10 is 'O'"),
        ("1HGCM82633A00435", "16 characters"),
        ("", "No VIN was given"),
        # Only ASCII letters and digits are ever billed (today "ß" became "SS" and a lookup was sent).
        ("WVWZZZ1KZKU0099ß", "character 16 is 'ß' (U+00DF LATIN SMALL LETTER SHARP S)"),
        ("WVWZZZ1KZKU00991２", "character 17 is '２' (U+FF12 FULLWIDTH DIGIT TWO)"),
        ("WVWZZZ1KZKU\u00a0009912", "character 12 is U+00A0 NO-BREAK SPACE"),
        ("WVWZZZ1KZKU\u2009009912", "character 12 is U+2009 THIN SPACE"),
        ("WVW.ZZZ1KZKU009912", "character 4 is '.'"),
        ("WVWZZZ1KZKU00991\u200b2", "character 17 is U+200B ZERO WIDTH SPACE"),
    ],
)
async def test_malformed_vin_is_refused_before_any_call(
    fake: fa.FakeAutoGrab, settings: Settings, vin: str, fragment: str
) -> None:
    async with connect(settings) as client:
        for tool in ("lookup_vin", "get_factory_build_data"):
            result = await client.call_tool(tool, {"vin": vin})
            assert result.is_error
            assert fragment in text(result) and "\n" not in text(result)
    assert fake.calls() == []


ERROR_CASES = [
    ("401", "rejected the API key", "AUTOGRAB_API_KEY"),
    ("403", "rejected the API key", "AUTOGRAB_API_KEY"),
    ("400_message", "Region not enabled for this key", "ask AutoGrab to enable it"),
    ("429_far", "rate limit", "Try again in 60 seconds"),
    ("429_neither", "rate limit", "Try again in 1 second;"),
    ("503", "unavailable (HTTP 503, 3 attempts)", "try again in a minute"),
    ("hang", "did not answer within 0.5 seconds", "AUTOGRAB_TIMEOUT"),
    ("html_200", "Unexpected response from the API", "AUTOGRAB_BASE_URL"),
    ("truncated", "Unexpected response from the API", "try again later"),
    ("reset", "broke while it was answering", "Try again"),
    ("huge", "exceeded", "AUTOGRAB_BASE_URL"),
]


@pytest.mark.parametrize(("fault", "what", "remedy"), ERROR_CASES)
async def test_upstream_failures_are_specific_tool_errors(
    fake: fa.FakeAutoGrab, fault: str, what: str, remedy: str
) -> None:
    async with connect(make_settings(fake, timeout=0.5)) as client:
        result = await lookup(client, fa.FAULTS[fault])
        assert result.is_error
        message = text(result)
        assert what in message and remedy.lower() in message.lower()
        assert "\n" not in message
        assert message != "Error executing tool lookup_vin"
        assert fa.API_KEY not in message
        # The server keeps serving after the failure...
        after = await lookup(client, fa.POLO)
        if fault == "429_far":
            # ...but the rate-limit window is shared: the next call is told when to retry, and not sent.
            assert after.is_error and "reopens in about 60 seconds" in text(after) and fake.calls(fa.POLO) == []
        else:
            assert not after.is_error and after.structured_content["status"] == "matched"


async def test_unexpected_bug_is_not_the_generic_sdk_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from vin_mcp.answers import lookup as answers_lookup

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(answers_lookup, "lookup_facts", broken)  # fault injection: a bug in our code
    async with connect(settings) as client:
        result = await lookup(client, fa.POLO)
    assert result.is_error
    assert "internal error (RuntimeError)" in text(result)


async def test_build_data_paging_and_search(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        first = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD})
        second = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "offset": 40, "limit": 10})
        found = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD, "search": "0eg"})
    data = first.structured_content
    assert data is not None
    assert data["build_date"] == "2019-03-19" and data["make"] == "VOLKSWAGEN"
    assert data["total_codes"] == 300 and len(data["codes"]) == 100
    assert data["codes"][:2] == ["0A2: 4 doors", "0EG: Dual-clutch transmission DSG DQ200"]
    assert data["next_offset"] == 100
    # The rest fits in one more call, and the note says how.
    assert "the other 200: offset=100, limit=200; or narrow with search." in text(first)
    assert second.structured_content["codes"][0] == "026: Adaptive cruise control variant 38"
    assert second.structured_content["next_offset"] == 50
    assert found.structured_content["matching_codes"] == 1
    assert found.structured_content["codes"] == ["0EG: Dual-clutch transmission DSG DQ200"]
    assert len(fake.calls()) == 1  # paging and searching reuse the one paid answer


async def test_build_data_not_available_is_not_an_error(settings: Settings) -> None:
    async with connect(settings) as client:
        result = await client.call_tool("get_factory_build_data", {"vin": fa.BUILD_UNSUPPORTED})
    assert not result.is_error
    assert result.structured_content["status"] == "not_available"


@pytest.mark.parametrize(
    ("vin", "fragment"),
    [
        ("JTDZZZ1KZKU000010", "AutoGrab has none for Toyota vehicles"),
        ("1M8GDM9AXKP042788", "encodes model year 1989"),
        (fa.BUILD, None),
    ],
)
async def test_build_data_refuses_uncovered_vehicles_without_paying(
    fake: fa.FakeAutoGrab, settings: Settings, vin: str, fragment: str | None
) -> None:
    async with connect(settings) as client:
        result = await client.call_tool("get_factory_build_data", {"vin": vin})
    assert not result.is_error
    if fragment is None:
        assert len(fake.calls()) == 1
        return
    # The same shape as "AutoGrab has none": an answer with the reason, and a true word about charges.
    assert result.structured_content["status"] == "not_available"
    assert fragment in text(result) and "nothing was charged" in text(result)
    assert fake.calls() == []


async def test_build_data_refuses_pre_1999_vehicle(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    vin = fa.with_check_digit("1FAFP4040TW000001")  # Ford; 'T' at position 10 with a digit at 7: 1996
    async with connect(settings) as client:
        result = await client.call_tool("get_factory_build_data", {"vin": vin})
    assert not result.is_error and "1996" in text(result) and "1999" in text(result)
    assert result.structured_content["status"] == "not_available"
    assert fake.calls() == []


async def test_repeat_lookup_is_served_from_cache(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    async with connect(settings) as client:
        first = await lookup(client, fa.POLO)
        second = await lookup(client, fa.POLO.lower())
    assert "cached_minutes_ago" not in first.structured_content
    assert second.structured_content["cached_minutes_ago"] == 0
    assert text(second).startswith(f"VIN {fa.POLO} (AU): matched (cached 0 min ago; free), confidence high")
    assert len(fake.calls()) == 1


async def test_concurrent_identical_lookups_cost_one_call(fake: fa.FakeAutoGrab, settings: Settings) -> None:
    fake.latency = 0.2
    results: list[CallToolResult] = []
    async with connect(settings) as client:

        async def one() -> None:
            results.append(await lookup(client, fa.POLO))

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
    assert len(results) == 100 and all(not r.is_error for r in results)
    assert len(fake.calls()) == 1


@pytest.mark.parametrize(
    ("tool", "arguments", "line"),
    [
        ("lookup_vin", {}, "the argument 'vin' is missing; give the 17-character VIN as text."),
        ("lookup_vin", {"vin": 17}, "the argument 'vin' cannot be 17; give the 17-character VIN as text."),
        (
            "lookup_vin",
            {"vin": fa.POLO, "region": "mars"},
            "region is 'mars'; use au, nz or uk (any letter case), or leave it out for the server's default.",
        ),
        ("lookup_vin", {"vin": fa.POLO, "prefer_more_results": "maybe"}, "'prefer_more_results' cannot be 'maybe'"),
        ("get_factory_build_data", {"vin": fa.BUILD, "limit": 500}, "limit is 500; use 1 to 300."),
        ("get_factory_build_data", {"vin": fa.BUILD, "limit": "ten"}, "use a whole number from 1 to 300."),
        ("get_factory_build_data", {"vin": fa.BUILD, "offset": -1}, "offset is -1; use 0 or more."),
    ],
)
async def test_argument_errors_are_one_plain_line(
    fake: fa.FakeAutoGrab, settings: Settings, tool: str, arguments: dict[str, Any], line: str
) -> None:
    async with connect(settings) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error and line in text(result)
    assert "\n" not in text(result) and "pydantic" not in text(result) and "validation error" not in text(result)
    assert fake.calls() == []


@pytest.mark.parametrize("region", ["AU", "Nz", "uk"])
async def test_region_is_accepted_in_any_letter_case(fake: fa.FakeAutoGrab, settings: Settings, region: str) -> None:
    async with connect(settings) as client:
        result = await client.call_tool("lookup_vin", {"vin": fa.POLO, "region": region})
    assert not result.is_error and result.structured_content["region"] == region.lower()
    assert fake.calls(fa.POLO)[0].query["region"] == region.lower()


@pytest.mark.parametrize(
    "region", ["au", "AU", "Nz", "uK", "", None, "mars", " au", "au ", "a-u", "auu", "nzl", "GB", 7, ["au"]]
)
async def test_published_region_schema_accepts_exactly_what_the_server_accepts(
    fake: fa.FakeAutoGrab, settings: Settings, region: Any
) -> None:
    async with connect(settings) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        for name, vin in (("lookup_vin", fa.POLO), ("get_factory_build_data", fa.BUILD)):
            arguments = {"vin": vin, "region": region}
            try:
                jsonschema.validate(arguments, tools[name].input_schema)
                published = True
            except jsonschema.ValidationError:
                published = False
            result = await client.call_tool(name, arguments)
            refused = result.is_error and "region" in text(result)
            assert published is not refused, (name, region, text(result))
