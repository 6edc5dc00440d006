"""Tool arguments the SDK refused, said in one plain line: which argument, what was wrong, how to fix it."""

from __future__ import annotations

import json

from pydantic import ValidationError

from vin_mcp.answers.limits import MAX_BUILD_CODES_LIMIT
from vin_mcp.service import REGION_ADVICE

# What each argument takes, as the assistant should be told.
ACCEPTS: dict[str, str] = {
    "vin": "give the 17-character VIN as text",
    "plate": "give the registration plate's letters and digits as text",
    "state": "give the AU state (ACT, NSW, NT, QLD, SA, TAS, VIC or WA) as text, or leave it out outside AU",
    "region": REGION_ADVICE,
    "include_extended_data": "use true or false",
    "prefer_more_results": "use true or false",
    "reference_id": "use text of at most 100 characters, or leave it out",
    "search": "use text of at most 100 characters, or leave it out",
    "limit": f"use a whole number from 1 to {MAX_BUILD_CODES_LIMIT}",
    "offset": "use a whole number, 0 or more (the answer's next_offset)",
}


def explain(tool: str, error: ValidationError) -> str:
    """One line for the first problem, naming the argument; the rest follow once it is fixed."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "arguments"
    if first["type"] == "missing":
        problem = f"the argument {name!r} is missing"
    else:
        value = first.get("input")
        # null, true and false as the caller wrote them (JSON), not Python's None, True and False.
        if value is None or isinstance(value, bool):
            shown = json.dumps(value)
        else:
            shown = repr(value)[:40] if isinstance(value, str | int | float) else "that value"
        problem = f"the argument {name!r} cannot be {shown}"
    more = f" ({error.error_count() - 1} more problem{'s' if error.error_count() > 2 else ''} after that)"
    # The SDK's own prefix, as on every other tool error.
    return f"Error executing tool {tool}: {problem}; {ACCEPTS.get(name, 'see the tool description')}." + (
        more if error.error_count() > 1 else ""
    )
