"""``vin-mcp batch IN.csv -o OUT.csv``: a spreadsheet of VINs (or plates with states) looked up row by row.

Every input column and the row order are kept, and the answer is appended to each row. Each distinct vehicle is
paid for once (duplicates share it); lookups run a few at a time within AutoGrab's rate limit (the client's
pacing); one row's failure never stops the others. A re-run with the same OUT resumes: rows already answered are
copied, not asked again. Output is Excel-safe: UTF-8 with a byte-order mark, and a cell that starts with = + - @
(which a spreadsheet would run as a formula) is prefixed with an apostrophe. ``--json`` writes JSON Lines instead.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from vin_mcp.answers.lookup import lookup_answer
from vin_mcp.answers.models import LookupAnswer
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.cli.exit_codes import ExitCode
from vin_mcp.cli.wording import for_people
from vin_mcp.errors import InvalidArgumentError, RateLimitedError, VinMcpError
from vin_mcp.redaction import Redactor
from vin_mcp.service import VinService, open_service
from vin_mcp.settings import Settings
from vin_mcp.vin.identifiers import Search, search_for

# Headers recognised without a flag (compared without case, spaces, dashes or underscores).
VIN_HEADERS = ("vin", "vinnumber", "chassisnumber", "chassis")
PLATE_HEADERS = ("plate", "rego", "registration", "registrationnumber", "numberplate", "vrm", "licenceplate")
STATE_HEADERS = ("state", "regostate", "registrationstate")
REFERENCE_HEADERS = ("referenceid", "reference")
# What each output row gains, after the input's own columns.
RESULT_COLUMNS = (
    "status",
    "confidence",
    "vin_found",
    "year",
    "make",
    "model",
    "badge",
    "body",
    "colour",
    "write_off",
    "advice",
    "error",
)
DONE = frozenset({"matched", "unconfirmed", "candidates", "no_match", "user_confirmed", "vin_decode_only"})
# A row refused by the rate limit waits and is asked again, this many times, before it counts as failed.
RATE_LIMIT_RETRIES = 5
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Row:
    number: int
    cells: dict[str, str]
    search: Search | None = None
    reference_id: str | None = None
    answer: LookupAnswer | None = None
    error: str | None = None
    carried: dict[str, str] = field(default_factory=dict)  # a result copied from the previous run's OUT


@dataclass
class Columns:
    vin: str | None
    plate: str | None
    state: str | None
    reference: str | None


def run_batch(settings: Settings, args: Any) -> ExitCode:
    with (
        contextlib.nullcontext(sys.stdin)
        if args.input == "-"
        else Path(args.input).open(encoding="utf-8-sig", newline="") as source
    ):
        reader = csv.DictReader(source)
        header = list(reader.fieldnames or [])
        rows = [
            Row(n, {key: value or "" for key, value in record.items() if key is not None})
            for n, record in enumerate(reader, 1)
        ]
    columns = find_columns(header, args)
    region = args.region or settings.region
    for row in rows:
        prepare(row, columns, region, args.reference_id)
    output_columns = header + [_free(name, header) for name in RESULT_COLUMNS]
    if args.output != "-" and not args.json and Path(args.output).exists():
        carry_over(rows, Path(args.output), header, output_columns)
    try:
        anyio.run(_look_up, settings, rows, args)
    except KeyboardInterrupt:
        write(rows, header, output_columns, args, interrupted=True)
        summary(rows, settings, interrupted=True)
        raise
    write(rows, header, output_columns, args, interrupted=False)
    summary(rows, settings, interrupted=False)
    if any(row.search and row.error and not row.carried for row in rows):
        return ExitCode.UPSTREAM  # AutoGrab failed some rows: run again later (the others are kept)
    if any(row.search is None for row in rows):
        return ExitCode.USAGE  # some rows hold no VIN or plate vin-mcp can search: fix them
    return ExitCode.CONFIDENT


def find_columns(header: list[str], args: Any) -> Columns:
    def named(flag: str | None, known: tuple[str, ...]) -> str | None:
        if flag:
            if flag not in header:
                raise InvalidArgumentError(f"the input has no column {flag!r}; its columns are {', '.join(header)}.")
            return flag
        return next((name for name in header if _plain(name) in known), None)

    columns = Columns(
        named(args.vin_column, VIN_HEADERS),
        named(args.plate_column, PLATE_HEADERS),
        named(args.state_column, STATE_HEADERS),
        named(args.reference_column, REFERENCE_HEADERS),
    )
    if columns.vin is None and columns.plate is None:
        raise InvalidArgumentError(
            "no VIN or plate column found; name one with --vin-column or --plate-column "
            f"(the columns are {', '.join(header) or 'none'})."
        )
    return columns


def prepare(row: Row, columns: Columns, region: str, reference_id: str | None) -> None:
    """The row's search, or the one-line reason it cannot be searched (never a paid call)."""
    vin = row.cells.get(columns.vin or "", "").strip()
    plate = row.cells.get(columns.plate or "", "").strip()
    row.reference_id = row.cells.get(columns.reference or "", "").strip() or reference_id or None
    if not vin and not plate:
        row.error = "no VIN or plate in this row"
        return
    try:
        # A row's VIN wins over its plate: the VIN names the vehicle itself.
        state = row.cells.get(columns.state or "", "") or None
        row.search = search_for(vin=vin, plate=None if vin else plate, state=state, region=region)
    except VinMcpError as error:
        row.error = for_people(error.message)


def carry_over(rows: list[Row], previous: Path, header: list[str], output_columns: list[str]) -> None:
    """Rows the previous run answered (same row, same input) are copied instead of asked again."""
    with previous.open(encoding="utf-8-sig", newline="") as file:
        earlier = list(csv.DictReader(file))
    status = output_columns[len(header)]
    for row, old in zip(rows, earlier, strict=False):
        same = all(_unformula(old.get(name, "")) == row.cells.get(name, "") for name in header)
        if same and old.get(status) in DONE:
            row.carried = {name: _unformula(old.get(name, "")) for name in output_columns[len(header) :]}


async def _look_up(settings: Settings, rows: list[Row], args: Any) -> None:
    todo = [row for row in rows if row.search is not None and not row.carried]
    groups: dict[tuple[object, ...], list[Row]] = {}
    for row in todo:
        assert row.search is not None
        groups.setdefault((*row.search.key(), row.reference_id), []).append(row)
    progress = _progress(len(todo))
    limit = anyio.CapacityLimiter(args.concurrency)
    async with open_service(settings) as service, anyio.create_task_group() as tasks:
        for group in groups.values():
            tasks.start_soon(_one, service, group, args, limit, progress)
    if progress is not None:
        progress.close()


async def _one(service: VinService, group: list[Row], args: Any, limit: anyio.CapacityLimiter, progress: Any) -> None:
    """One distinct vehicle: looked up once, the answer given to every row that names it."""
    first = group[0]
    assert first.search is not None
    request = LookupRequest(
        search=first.search,
        region=args.region,
        include_extended_data=False,
        prefer_more_results=args.candidates,
        reference_id=first.reference_id,
    )
    async with limit:
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                answer: LookupAnswer | None = lookup_answer(await service.lookup_facts(request))
                error = None
                break
            except RateLimitedError as exc:
                answer, error = None, for_people(str(exc))
                if attempt < RATE_LIMIT_RETRIES:
                    await anyio.sleep(max(1.0, exc.retry_after_seconds or 1.0))
            except VinMcpError as exc:
                answer, error = None, for_people(str(exc))
                break
    for row in group:
        row.answer, row.error = answer, error
    if progress is not None:
        progress.update(len(group))


def _progress(total: int) -> Any:
    """A progress bar on stderr when it is a terminal (tqdm is imported only then)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="row", desc="vin-mcp")


def result_cells(row: Row) -> dict[str, str]:
    if row.carried:
        return dict(zip(RESULT_COLUMNS, row.carried.values(), strict=False))
    answer = row.answer
    if answer is None:
        return {"status": "error" if row.search else "skipped", "error": row.error or "not looked up"}
    vehicle = answer.vehicle or answer.unconfirmed_vehicle
    incidents = answer.write_off.incidents if answer.write_off else []
    return {
        "status": answer.status,
        "confidence": answer.confidence.level or "none",
        "vin_found": answer.vin or "",
        "year": str(vehicle.year or "") if vehicle else "",
        "make": (vehicle.make or "") if vehicle else "",
        "model": (vehicle.model or "") if vehicle else "",
        "badge": (vehicle.badge or "") if vehicle else "",
        "body": (vehicle.body or "") if vehicle else "",
        "colour": answer.colour or "",
        "write_off": "; ".join(
            " ".join(part for part in (i.category, i.jurisdiction, i.date) if part) for i in incidents
        )
        or (answer.write_off.summary if answer.write_off else ""),
        "advice": for_people(answer.confidence.advice),
        "error": "",
    }


def write(rows: list[Row], header: list[str], output_columns: list[str], args: Any, *, interrupted: bool) -> None:
    redactor = Redactor(Settings.environment_secrets())
    buffer = io.StringIO()
    if args.json:
        for row in rows:
            line = {"row": row.number, "input": row.cells, **_json_result(row, interrupted)}
            buffer.write(json.dumps(line, ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_safe(name) for name in output_columns])
        for row in rows:
            results = result_cells(row)
            if interrupted and row.search and row.answer is None and not row.carried and row.error is None:
                results = {"status": "not done", "error": "interrupted; run again with the same output to resume"}
            cells = [row.cells.get(name, "") for name in header] + [results.get(name, "") for name in RESULT_COLUMNS]
            writer.writerow([_safe(cell) for cell in cells])
    text = redactor.text(buffer.getvalue())
    if args.output == "-":
        sys.stdout.write(text)
        return
    target = Path(args.output)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8" if args.json else "utf-8-sig", newline="") as file:
        file.write(text)
    os.replace(partial, target)  # a run stopped mid-write never leaves half a file where the last one was


def _json_result(row: Row, interrupted: bool) -> dict[str, Any]:
    if row.answer is not None:
        return {"answer": row.answer.dump()}
    if row.carried:
        return {"answer": None, "carried": row.carried}
    if interrupted and row.search and row.error is None:
        return {"error": "interrupted; run again to finish"}
    return {"error": row.error or "not looked up"}


def summary(rows: list[Row], settings: Settings, *, interrupted: bool) -> None:
    """One line on stderr at the end, when it is a terminal."""
    if not sys.stderr.isatty():
        return
    statuses = Counter(result_cells(row)["status"] for row in rows)
    need = statuses["unconfirmed"] + statuses["candidates"]
    failed = statuses["error"] + statuses["skipped"]
    # Rows naming one vehicle share one answer; it was paid for by this run unless it came from the cache.
    paid = len({id(row.answer) for row in rows if row.answer is not None and row.answer.cached_minutes_ago is None})
    said = (
        f"vin-mcp: {len(rows)} rows: {statuses['matched'] + statuses['user_confirmed']} matched, {need} need "
        f"confirmation, {statuses['no_match']} no match, {failed} failed; {paid} paid lookups"
        + (" (interrupted: run again with the same output to resume)" if interrupted else "")
    )
    print(said, file=sys.stderr)


def _safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ would make it a formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _unformula(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS) else cell


def _plain(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _free(name: str, taken: Iterable[str]) -> str:
    """A result column's name, kept apart from an input column of the same name."""
    return f"{name} (vin-mcp)" if name in set(taken) else name


__all__ = ["run_batch"]
