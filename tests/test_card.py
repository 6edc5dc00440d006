"""The vehicle card (issue 22) in a real headless Chromium, driven by Playwright, inside a small test host that
speaks the MCP Apps protocol: every golden answer kind is rendered and what a person sees is asserted; a
screenshot of each is kept in build/screenshots/ (the README's, with VIN_MCP_UPDATE_SCREENSHOTS=1, also in
docs/screenshots/).

Needs Debian's chromium (``apt-get install chromium``; .ci/run installs it). Skipped without it; ``-m 'not
browser'`` leaves these out.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_golden import CASES, GOLDEN
from vin_mcp.mcp_server.card import card_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install chromium"),
]
ROOT = Path(__file__).parent.parent
HOST = Path(__file__).parent / "card_host.html"
SHOTS = ROOT / "build" / "screenshots"
# The README shows these; VIN_MCP_UPDATE_SCREENSHOTS=1 copies them to docs/screenshots/.
README_SHOTS = {"rich_match", "written_off", "candidates", "build_data_page", "plate_sure", "written_off_dark_360px"}
# Read at import: the tests' own fixture clears every VIN_MCP_ variable before a test runs.
UPDATE_SHOTS = os.environ.get("VIN_MCP_UPDATE_SCREENSHOTS") == "1"
TOOL_ERROR = "Error executing tool lookup_vin: "
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 720, "height": 900})
    opened = context.new_page()
    opened.goto(HOST.as_uri())
    yield opened
    context.close()


def result_of(name: str) -> dict[str, Any]:
    """The CallToolResult the golden answer is, as the host passes it on."""
    text = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")
    structured = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return {"content": [{"type": "text", "text": text}], "structuredContent": structured, "isError": False}


def show(page: Any, result: dict[str, Any], arguments: dict[str, Any], **config: Any) -> Any:
    page.evaluate(
        "([html, config]) => window.loadApp(html, config)",
        [card_html(), {"input": arguments, "result": result, **config}],
    )
    card = page.frame_locator("#app")
    card.locator("h1").first.wait_for()
    return card


def app_frame(page: Any) -> Any:
    """The card's frame (sandboxed, so its document is another origin to the host page: reached through CDP)."""
    return page.main_frame.child_frames[0]


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = app_frame(page).evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": max(200, min(int(height) + 4, 1600))})
    page.locator("#app").screenshot(path=str(SHOTS / f"{name}.png"))
    if name in README_SHOTS and UPDATE_SHOTS:
        shutil.copyfile(SHOTS / f"{name}.png", ROOT / "docs" / "screenshots" / f"{name}.png")


LOOKUP_KINDS = {
    "rich_match": ("sure", "2015 Volkswagen Golf 110 TSI Highline"),
    "plate_sure": ("sure", "2015 Volkswagen Golf 110 TSI Highline"),
    "reduced": ("unconfirmed", "2012 Volkswagen Polo 77 TSI Comfortline"),
    "contradicted": ("unconfirmed", None),
    "candidates": ("candidates", None),
    "plate_candidates": ("candidates", None),
    "no_match": ("no_match", "No vehicle found"),
    "plate_vin_only": ("no_match", "No vehicle found"),
    "offline": ("offline", "What the VIN itself says"),
    "written_off": ("sure", None),
    "extended": ("sure", None),
    "user_picked": ("sure", None),
    "user_rejected": ("unconfirmed", None),
    "user_none_fit": ("no_match", None),
    "user_confirmed_vin_disagrees": ("unconfirmed", None),
}


@pytest.mark.parametrize("name", sorted(LOOKUP_KINDS))
def test_every_lookup_kind_renders_with_a_badge_that_cannot_be_mistaken(page: Any, name: str) -> None:
    kind, heading = LOOKUP_KINDS[name]
    answer = result_of(name)
    card = show(page, answer, CASES[name][1])
    assert card.locator(".badge").first.get_attribute("data-kind") == kind
    assert card.locator("[data-role=advice]").inner_text() == answer["structuredContent"]["confidence"]["advice"]
    if heading:
        assert card.locator("h1").first.inner_text() == heading
    for reason in answer["structuredContent"]["confidence"].get("reasons", []):
        assert card.get_by_text(reason, exact=True).count() == 1
    shot(page, name)


def test_a_miss_shows_the_brief_decode_as_it_is_and_a_plate_the_vin_given(page: Any) -> None:
    card = show(page, result_of("no_match"), CASES["no_match"][1])
    decode = card.locator("dl.facts").last.inner_text()
    assert "Volkswagen" in decode and "Model year" not in decode  # left out behind a miss, not "not encoded"
    card = show(page, result_of("plate_vin_only"), CASES["plate_vin_only"][1])
    assert "Plate REG4VINONLY TAS · AU · VIN WVWZZZ1KZKU000021" in card.locator("p.muted").first.inner_text()
    offline = show(page, result_of("offline"), CASES["offline"][1])
    assert "Model year" in offline.locator("dl.facts").last.inner_text()  # a full decode still says it


def test_a_write_off_shows_a_banner_with_each_incident(page: Any) -> None:
    card = show(page, result_of("written_off"), CASES["written_off"][1])
    banner = card.locator("[data-role=write-off]")
    assert banner.get_attribute("role") == "alert"
    text = banner.inner_text()
    incidents = result_of("written_off")["structuredContent"]["write_off"]["incidents"]
    assert "Write-off on record: Recorded as written off twice." in text
    for incident in incidents:
        for value in (incident.get("category"), incident.get("jurisdiction"), incident.get("date")):
            assert value is None or value in text


def test_option_packs_say_not_confirmed_fitted_with_prices_in_the_regions_currency(page: Any) -> None:
    card = show(page, result_of("rich_match"), CASES["rich_match"][1])
    options = card.locator("[data-role=options]")
    assert "not confirmed fitted" in options.inner_text() and "AUD" in options.inner_text()
    assert options.locator("tr").count() == 12
    assert "Panoramic Sunroof" in options.inner_text() and "1,800" in options.inner_text()


def test_a_pick_calls_the_app_only_tool_and_shows_the_settled_answer(page: Any) -> None:
    picked = result_of("user_picked")
    card = show(page, result_of("candidates"), CASES["candidates"][1])
    page.evaluate("(answer) => { window.hostAnswers.choose_vehicle = answer; }", picked)
    assert card.locator("[data-role=candidates] li").count() == 3
    card.locator("[data-role=candidates] li").nth(1).get_by_role("button").click()
    card.locator(".badge[data-kind=sure]").wait_for()
    calls = [m for m in page.evaluate("window.messages") if m.get("method") == "tools/call"]
    assert len(calls) == 1 and calls[0]["params"]["name"] == "choose_vehicle"
    assert calls[0]["params"]["arguments"] == {
        "vin": CASES["candidates"][1]["vin"],
        "prefer_more_results": True,
        "choice": "2",
    }
    assert "Trendline" in card.locator("h1").inner_text()


def test_without_server_tools_a_pick_is_sent_as_a_message(page: Any) -> None:
    card = show(page, result_of("plate_candidates"), CASES["plate_candidates"][1], serverTools=False)
    card.get_by_role("button", name="None of these").click()
    card.locator("[data-role=sent]").wait_for()
    sent = [m for m in page.evaluate("window.messages") if m.get("method") == "ui/message"]
    assert [m["params"]["content"][0]["text"] for m in sent] == ["None of the listed vehicles is mine."]
    assert not [m for m in page.evaluate("window.messages") if m.get("method") == "tools/call"]


def test_a_message_the_host_refuses_is_said_so_on_the_card(page: Any) -> None:
    card = show(page, result_of("candidates"), CASES["candidates"][1], serverTools=False, refuseMessages=True)
    card.get_by_role("button", name="None of these").click()
    card.get_by_text("The host did not take the message: tell the assistant yourself.").wait_for()
    assert card.locator("[data-role=sent]").count() == 1


def test_build_data_is_a_searchable_paged_table_with_the_build_date(page: Any) -> None:
    first = result_of("build_data_page")
    card = show(page, first, CASES["build_data_page"][1])
    assert card.locator("[data-role=build-date]").inner_text() == "2019-03-19"
    rows = card.locator("[data-role=codes] tbody tr")
    assert rows.count() == 10 and rows.first.locator("td").first.inner_text() == "0A2"
    shot(page, "build_data_page")
    page.evaluate("(answer) => { window.hostAnswers.get_factory_build_data = answer; }", first)
    card.get_by_role("button", name="Next").click()
    card.get_by_placeholder("Search codes (e.g. sunroof)").fill("sunroof")
    card.get_by_role("button", name="Search").click()
    page.wait_for_function("window.messages.filter(m => m.method === 'tools/call').length >= 2")
    calls = [m["params"] for m in page.evaluate("window.messages") if m.get("method") == "tools/call"]
    assert calls[0] == {
        "name": "get_factory_build_data",
        "arguments": {"vin": first["structuredContent"]["vin"], "limit": 10, "offset": 10},
    }
    assert calls[1]["arguments"]["search"] == "sunroof" and calls[1]["arguments"]["offset"] == 0


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            f"{TOOL_ERROR}AutoGrab's rate limit is reached; it reopens in about 2 seconds. Try again in 2 s.",
            "rate limit",
        ),
        (
            f"{TOOL_ERROR}AutoGrab is unavailable (HTTP 503, 3 attempts). This is not a 'no match'.",
            "not a 'no match'",
        ),
        (
            f"{TOOL_ERROR}'WVW' is not a valid VIN: it has 3 characters, a VIN has exactly 17.",
            "not a valid VIN",
        ),
    ],
)
def test_errors_say_what_happened_and_what_to_do(page: Any, text: str, title: str) -> None:
    result = {"content": [{"type": "text", "text": text}], "isError": True}
    card = show(page, result, {"vin": "WVW"})
    assert card.locator(".badge").get_attribute("data-kind") == "error"
    assert title in card.locator("h1").inner_text()
    assert card.locator(".advice").inner_text() == text.split(": ", 1)[1]


def test_vendor_text_is_inserted_as_text_never_as_html(page: Any) -> None:
    answer = result_of("extended")
    data = answer["structuredContent"]
    data["vehicle"]["model"] = HOSTILE
    data["colour"] = HOSTILE
    data["registration_record"] = {HOSTILE: HOSTILE}
    data["vehicle"]["available_options"]["list_prices"] = {HOSTILE: 1}
    card = show(page, answer, CASES["extended"][1])
    assert HOSTILE in card.locator("h1").inner_text()
    assert card.locator("img").count() == 0 and card.locator("script").count() == 1  # the card's own
    assert app_frame(page).evaluate("window.pwned") is None


def test_the_card_follows_the_hosts_theme_reports_its_size_and_reads_at_360_px(page: Any) -> None:
    page.set_viewport_size({"width": 360, "height": 900})
    card = show(page, result_of("written_off"), CASES["written_off"][1], theme="dark")
    assert card.locator("html").get_attribute("data-theme") == "dark"
    page.wait_for_function("window.messages.some(m => m.method === 'ui/notifications/size-changed')")
    sizes = [
        m["params"] for m in page.evaluate("window.messages") if m.get("method") == "ui/notifications/size-changed"
    ]
    assert sizes[-1]["width"] <= 360 and sizes[-1]["height"] > 100
    scroll = app_frame(page).evaluate("document.documentElement.scrollWidth")
    assert scroll <= 360  # nothing runs off the side of a phone-width card
    shot(page, "written_off_dark_360px")


def test_the_card_fetches_nothing(page: Any) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    show(page, result_of("rich_match"), CASES["rich_match"][1])
    assert [url for url in requests if not url.startswith(("file:", "about:", "data:"))] == []
