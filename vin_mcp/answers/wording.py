"""The phrasebook: every sentence vin-mcp says about an answer that is not a rendering of its fields.

Kept apart from ``render`` so the answer models can use it too (a write-off summary is built with its
incidents) without importing the renderer.
"""

from __future__ import annotations

import json

from vin_mcp.answers.confidence import SOURCES, Advice, Assessment, Finding

ADVICE: dict[Advice, str] = {
    "state": "Safe to tell the user this is the vehicle.",
    "confirm": "Show the user the registry text and ask them to confirm make, model and year before relying on this.",
    "unconfirmed": (
        "Do not present this as the vehicle ({why}). Show the user the registry text and ask them to confirm "
        "make, model and year."
    ),
    "choose": (
        "Several vehicles fit: show the candidates and ask the user which one matches "
        "(badge, engine or body) before answering."
    ),
    "no_match": "Say no vehicle matched; the user should {recheck}.",
    "no_match_registry": "Say no vehicle matched; the user should {recheck_short}.",
    "offline": (
        "Only the VIN decode is available: say which facts come from the VIN itself and that the exact vehicle "
        "is unknown."
    ),
    "user_confirmed": "The user confirmed this vehicle: safe to treat it as the vehicle.",
    "user_confirmed_vin": (
        "The user confirmed this vehicle, but the VIN contradicts it: say so, and ask them to re-check the VIN "
        "(registration papers or windscreen plate) before relying on it."
    ),
    "none_fit": "Say none of the listed vehicles fits; ask the user to {recheck_short} and the region.",
    "user_rejected": ("The user says this is not their vehicle: do not present it; ask them to {recheck}."),
}
# Who disagrees with an unconfirmed match (confidence.SOURCES), in the advice's words.
_DISAGREEING = {
    "autograb": "AutoGrab doubts it",
    "vin": "the VIN contradicts it",
    "registry": "the registry text contradicts it",
}
NOTED_ADVICE = "Mention the difference this answer notes."
WRITE_OFF_ADVICE = "A write-off is on record: tell the user, with its type and date."
TEST_DATA_NOTE = "Test data from vin-mcp's fake AutoGrab API, not a real vehicle record."
EXTENDED_MISSING_NOTE = (
    "Extended registration data was asked for but not returned (the AutoGrab plan may not include it)."
)
CHECK_DIGIT_WORDS = {
    "valid": "valid",
    "invalid": "wrong: the VIN was probably mistyped",
    "not_verifiable": "not used outside North America",
}
CURRENCIES = {"au": "AUD", "nz": "NZD", "uk": "GBP"}
MAKER_PRACTICE = "the maker's usual coding, not fixed by a standard"
OPTIONS_FITTED = "not confirmed"
OPTIONS_FITTED_BUILD_DATA = "not confirmed; get_factory_build_data can confirm"


# What to ask the user to check again, by what was searched.
_RECHECK = {
    "VIN": ("re-check the VIN (registration papers or windscreen plate)", "re-check the VIN"),
    "plate": ("re-check the plate and its state", "re-check the plate and its state"),
}


def advice(assessment: Assessment, noun: str = "VIN") -> str:
    """What the assistant should do, naming who disagrees with an unconfirmed match. ``noun``: what was searched."""
    recheck, recheck_short = _RECHECK[noun]
    text = ADVICE[assessment.advice].replace("{recheck}", recheck).replace("{recheck_short}", recheck_short)
    if assessment.advice == "unconfirmed":
        sources = dict.fromkeys(SOURCES[f.code] for f in assessment.findings if f.code in SOURCES)
        text = text.format(why="; ".join(_DISAGREEING[source] for source in sources))
    return text


# The VIN itself is in the answer (its "vin", and the text's first line).
BUILD_DATA_TAKES = "get_factory_build_data takes its VIN."


def no_vin_given(noun: str) -> str:
    return f"AutoGrab gave no VIN for this {noun}; factory build data needs the VIN (windscreen plate or papers)."


def finding_sentence(finding: Finding, noun: str = "VIN") -> str:
    """One confidence finding in words; values that came from the API are quoted. ``noun``: what was searched."""
    v = finding.values
    match finding.code:
        case "no_match":
            return f"AutoGrab found no vehicle for this {noun}."
        case "candidates_only":
            return f"No single match: {_count(v[0], 'candidate vehicle')}."
        case "offline":
            return "AUTOGRAB_API_KEY is not set, so AutoGrab was not asked; registration and vehicle data need it."
        case "decode_only":
            return "Only the VIN decode was asked for: AutoGrab was not asked and nothing was billed."
        case "vendor_reduced":
            return 'AutoGrab rates its own match "reduced": not reliable.'
        case "check_digit":
            return (
                f"The check digit (position 9) should be '{v[0]}' for this North American VIN: "
                "it was probably mistyped, so the match may be another vehicle."
            )
        case "maker":
            return f"The VIN's manufacturer code {v[0]} belongs to {v[1]}, but the match is a {quote(str(v[2]))}."
        case "model_year":
            return f"The VIN encodes model year {v[0]}, but the match is a {v[1]}."
        case "other_candidates":
            return f"AutoGrab also returned {_count(v[0], 'other candidate vehicle')}."
        case "vendor_silent":
            return "AutoGrab did not state its confidence."
        case "vendor_unknown":
            return f"Unknown AutoGrab confidence {quote(str(v[0]))}."
        case "registry_maker":
            return f"The registry text names {quote(str(v[0]))}, but the match is a {quote(str(v[1]))}."
        case "registry_year":
            return f"The registry text says {v[0]}, but the match is a {v[1]}."
        case "registry_colour":
            return f"The registry text's colour is {quote(str(v[0]))}, AutoGrab's is {quote(str(v[1]))}."
        case "registry_vs_vin":
            return f"The registry text names {quote(str(v[0]))}, but the VIN's manufacturer is {v[1]}."
        case "registry_as_vin":
            return f"The registry text names the VIN's manufacturer ({v[0]})."
        case "user_picked":
            return f"The user picked it from {_count(v[0], 'candidate vehicle')}."
        case "user_confirmed":
            return "The user confirmed it."
        case "user_none":
            return f"The user said none of the {_count(v[0], 'listed vehicle')} is theirs."
        case "user_rejected":
            return USER_REJECTED


USER_REJECTED = "The user said it is not their vehicle."

# The questions put to the person (elicitation, or the command line's prompt): plain words, API text quoted.
PICK_TITLE = "Which vehicle is it?"
NONE_OF_THESE = "None of these"
CONFIRM_TITLE = "Is this the vehicle?"
CONFIRM_YES = "Yes, this is the vehicle"
CONFIRM_NO = "No, it is not"


def pick_question(searched: str, registry_text: str | None) -> str:
    """``searched``: "VIN …" or "plate … VIC". For a person reading a form: plain words, no quotation marks."""
    registry = f" The registration record describes it as: {registry_text}." if registry_text else ""
    return (
        f"Several vehicles could have {searched}.{registry} Which one is it? Check the badge, engine or body "
        "on the car or its papers."
    )


def confirm_question(searched: str, vehicle: str, registry_text: str | None) -> str:
    registry = f" The registration record describes it as: {registry_text}." if registry_text else ""
    return f"Please confirm the vehicle. The match for {searched} is: {vehicle}.{registry} Is that the vehicle?"


NO_BUILD_DATA_NOTE = (
    "AutoGrab has none for this VIN. lookup_vin (a separate, billed search) identifies the registered vehicle."
)


def not_covered_make(maker: str, wmi: str) -> str:
    return (
        f"AutoGrab has none for {maker} vehicles (VIN manufacturer code {wmi}), so it was not asked and nothing "
        "was charged. lookup_vin (a billed search) identifies the registered vehicle."
    )


def not_covered_year(year: int, first_year: int) -> str:
    return (
        f"This VIN encodes model year {year}; AutoGrab's factory build data covers vehicles built from "
        f"{first_year} on, so it was not asked and nothing was charged."
    )


def page_note(
    *,
    search: str | None,
    offset: int,
    shown: int,
    matching: int,
    next_offset: int | None,
    sent: int,
    kept: int,
    max_limit: int,
) -> str:
    """Where a page of build codes stands, and how to get the rest."""
    if not shown:
        note = (
            f"No codes match {search!r}."
            if search and not matching
            else f"offset {offset} is past the last of {matching} codes."
        )
    else:
        note = f"Codes {offset + 1}-{offset + shown} of {matching}" + (f" matching {search!r}" if search else "")
        if next_offset is None:
            note += "; that is all."
        else:
            # Says the limit that fetches the rest in one more call when one call can hold it.
            rest = matching - next_offset
            more = f"the other {rest}" if rest <= max_limit else "more"
            note += f"; {more}: offset={next_offset}, limit={min(rest, max_limit)}; or narrow with search."
    if sent > kept:
        note += f" AutoGrab sent {sent} codes; only the first {kept} are kept."
    return note


def record_disagreement(topic: str, theirs: str, ours: str) -> str:
    """Both values came from AutoGrab: quoted."""
    return f"The registration record's {topic} is {quote(theirs)}, the match's is {quote(ours)}."


def write_off_summary(incidents: int | None) -> str:
    """vin-mcp's reading of the write-off record; None when AutoGrab did not report one."""
    if incidents is None:
        return "Unknown: AutoGrab did not report it."
    if incidents == 0:
        return "None recorded."
    times = {1: "once", 2: "twice"}.get(incidents, f"{incidents} times")
    return f"Recorded as written off {times}."


def quote(text: str) -> str:
    """Text from the API as a JSON string: unmistakably data, and an embedded quote cannot end it."""
    return json.dumps(text, ensure_ascii=False)


def _count(number: str | int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
