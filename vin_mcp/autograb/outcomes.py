"""What an answer means: the API's own miss, or a failure said in the API's words with what to do about it.

A miss is only what the contract calls one (a null or absent vehicle, or a 404 whose body says the vehicle or
VIN was not found); every other odd answer is a failure, so an outage is never reported as "no such vehicle".
"""

from __future__ import annotations

import json
import math
import re

from vin_mcp.autograb.payloads import Envelope
from vin_mcp.errors import (
    AuthenticationError,
    BadRequestError,
    RateLimitedError,
    UnexpectedResponseError,
    UpstreamFailedError,
)

# The API's own words for a miss on a 404: the vehicle or VIN named as the subject ("Vehicle not found", "No
# matching vehicle"). A gateway's 404 names a route or nothing ("Route GET:/v2/vehicles/vins/… not found", "No
# matching route", "Not Found"): a failure, never a miss.
_NOT_FOUND_TAIL = r"\b[\w ]{0,30}\b(?:could )?not (?:be )?found"
NOT_FOUND = re.compile(
    rf"^\W*(?:(?:the |this )?(?:vehicle|vin)s?{_NOT_FOUND_TAIL}|no (?:matching )?(?:vehicle|vin)s?\b(?! route))", re.I
)
# Build data's documented "nothing for this VIN" message ("Invalid or Unsupported VIN"; status undocumented).
NO_BUILD_DATA = re.compile(
    rf"\bunsupported vin\b|^\W*(?:(?:the |this )?(?:vehicle|vin|build data){_NOT_FOUND_TAIL}|no (?:build )?data\b)",
    re.I,
)
# A message about the key is the key's problem whatever the status ("API key not found" on a 400).
_KEY_WORDS = re.compile(
    r"\bapi[ _-]?key\b|\bapikey\b|\bunauthori[sz]ed\b|\bkey (?:is )?(?:invalid|not found|expired)", re.I
)
_ROUTE_WORDS = re.compile(r"\broute\b|\bendpoint\b|\bpath\b|\bGET\b|/v2/", re.I)


def rate_limited(wait: float) -> RateLimitedError:
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return RateLimitedError(
        f"AutoGrab's rate limit is reached; it reopens in about {seconds} {unit}.",
        f"Try again in {seconds} {unit}; if this happens often, the AutoGrab plan's rate limit is too low.",
        retry_after_seconds=wait,
    )


def is_miss(words: re.Pattern[str], envelope: Envelope) -> bool:
    """The API's own miss: its envelope (no odd flags) and a message naming the vehicle, never a route."""
    message = envelope.message or ""
    return not envelope.odd and bool(words.search(message)) and not _ROUTE_WORDS.search(message)


def raise_for_key(status: int, envelope: Envelope) -> None:
    failed = status >= 400 or envelope.error is True or envelope.success is False or envelope.odd
    if failed and envelope.message and _KEY_WORDS.search(envelope.message):
        raise AuthenticationError(f"AutoGrab refused the API key (HTTP {status}){_quoted(envelope)}.")


def not_the_api(status: int, envelope: Envelope) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"Unexpected response: HTTP {status}{_quoted(envelope)}, which is not the AutoGrab API's answer about a "
        "vehicle.",
        "This is not a 'no match': nothing is known about the vehicle yet. Check that AUTOGRAB_BASE_URL points at "
        "the AutoGrab API, or try again later.",
    )


def raise_for_envelope(status: int, envelope: Envelope) -> None:
    if status >= 400:
        raise BadRequestError(
            f"AutoGrab refused the request (HTTP {status}){_quoted(envelope)}.", _advice_for(envelope)
        )
    if envelope.odd:
        raise UpstreamFailedError(f"AutoGrab answered with flags that are not true or false{_quoted(envelope)}.")
    if envelope.error or envelope.success is False:
        raise UpstreamFailedError(f"AutoGrab answered with an error{_quoted(envelope)}.")


# What a 400 says decides what to do about it: a key or plan limit is the operator's to fix, not the VIN.
_ACCOUNT_WORDS = re.compile(r"\b(region|enabled|permission|plan|subscription|feature|quota|access)\b", re.I)
_VIN_WORDS = re.compile(r"\bvin\b", re.I)


def _advice_for(envelope: Envelope) -> str:
    message = envelope.message or ""
    if _ACCOUNT_WORDS.search(message):
        return (
            "The AutoGrab key is not allowed this request (region, feature or plan): ask AutoGrab to enable it, or "
            "use a region the key covers (the region argument or AUTOGRAB_REGION). This says nothing about the vehicle."
        )
    if _VIN_WORDS.search(message):
        return "Re-read the VIN from the registration papers or the windscreen plate and try again."
    return (
        "AutoGrab refused the request as sent; this is not a 'no match'. If it repeats, pass AutoGrab's message "
        "to the vin-mcp maintainers."
    )


def _quoted(envelope: Envelope) -> str:
    return f": {json.dumps(envelope.message.rstrip('.'), ensure_ascii=False)}" if envelope.message else ""
