"""Reading a response body safely: decompressed under the size cap, JSON decoded without surprises, validated
into the vendor's payload models, the large ones off the event loop."""

from __future__ import annotations

import functools
import json
import math
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from pydantic import ValidationError

from vin_mcp.autograb.constants import MAX_BODY_BYTES, OFF_LOOP_BYTES
from vin_mcp.autograb.payloads import BuildDataResponse, Envelope, SearchResponse
from vin_mcp.errors import UnexpectedResponseError

Payload = TypeVar("Payload", SearchResponse, BuildDataResponse)
T = TypeVar("T")


async def read_body(raw: bytes, content_encoding: str, status: int) -> Any:
    return await off_loop(len(raw), functools.partial(_read_body, raw, content_encoding, status))


def _read_body(raw: bytes, content_encoding: str, status: int) -> Any:
    return _decode_json(_decompress(raw, content_encoding), status)


def _decompress(raw: bytes, content_encoding: str) -> bytes:
    """Undo gzip/deflate codings under MAX_BODY_BYTES each, so a small bomb cannot grow into gigabytes."""
    body = raw
    codings = [coding.strip().lower() for coding in content_encoding.split(",") if coding.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UnexpectedResponseError(f"Unexpected response from the API: a body encoded as {coding[:20]!r}.")
        # wbits 47 reads gzip or zlib; a bare deflate stream needs -15.
        for wbits in (47, -15) if coding == "deflate" else (47,):
            inflater = zlib.decompressobj(wbits=wbits)
            try:
                decoded = inflater.decompress(body, MAX_BODY_BYTES + 1)
            except zlib.error:
                continue
            if len(decoded) > MAX_BODY_BYTES or inflater.unconsumed_tail:
                raise UnexpectedResponseError(
                    f"Unexpected response from the API: the body exceeded {MAX_BODY_BYTES // 1024} KiB decompressed."
                )
            body = decoded
            break
        else:
            raise UnexpectedResponseError(f"Unexpected response from the API: a {coding} body that does not decode.")
    return body


def _finite_or_none(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _int_or_none(text: str) -> int | None:
    # Python refuses to parse integers of more than 4,300 digits; no field needs more than a few.
    return int(text) if len(text) <= 30 else None


def _decode_json(raw: bytes, status: int) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=lambda _: None, parse_float=_finite_or_none, parse_int=_int_or_none)
    except (ValueError, UnicodeDecodeError, RecursionError):
        if status >= 400:
            return None
        raise UnexpectedResponseError(
            f"Unexpected response from the API: HTTP {status} with a body that is not JSON vin-mcp can read."
        ) from None


def envelope_of(body: dict[str, Any]) -> Envelope:
    try:
        return Envelope.model_validate(body)
    except (ValidationError, RecursionError):
        return Envelope()


async def off_loop(size: int, work: Callable[[], T]) -> T:
    """Decoding and validating a large body takes milliseconds of CPU: done in a worker thread, so one hostile
    answer cannot hold up every other call's event loop (and make them time out after being billed)."""
    if size <= OFF_LOOP_BYTES:
        return work()
    return await anyio.to_thread.run_sync(work)


async def parse(model: type[Payload], body: dict[str, Any], size: int) -> Payload:
    return await off_loop(size, functools.partial(_validate, model, body))


def _validate(model: type[Payload], body: dict[str, Any]) -> Payload:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in err["loc"]) for err in exc.errors()})[:5]
        raise UnexpectedResponseError(
            f"Unexpected response from the API: fields {', '.join(fields)} are not in the documented form."
        ) from None
    except RecursionError:
        raise UnexpectedResponseError("Unexpected response from the API: the body is nested too deeply.") from None
