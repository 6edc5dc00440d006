"""What a lookup searches by: a VIN, or a registration plate with its state. No I/O.

The answer pipeline carries a ``Search`` and asks it only what every kind can say (its label, its cache key,
the VIN it names if any); a new kind of search is a new class here, its vendor route and its tool.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag

from vin_mcp.errors import InvalidArgumentError
from vin_mcp.vin.rules import validate_vin

# AutoGrab's Australian states and territories; NZ and UK plates take none.
AU_STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")
# AU and NZ plates have up to 7 characters, UK ones 7; AutoGrab's own sandbox plates have up to 13 (REG4SUCCESSEV).
PLATE_MAX = 13
# Only what people type between the groups of a plate; any other character is refused, never dropped.
_PLATE_SEPARATORS = re.compile(r"[ \t-]+")
_PLATE = re.compile(rf"[A-Z0-9]{{1,{PLATE_MAX}}}")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class VinSearch(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: Literal["vin"] = "vin"
    vin: str

    @classmethod
    def parse(cls, raw: str) -> VinSearch:
        return cls(vin=validate_vin(raw))

    def label(self) -> str:
        return f"VIN {self.vin}"

    def noun(self) -> str:
        return "VIN"

    def key(self) -> tuple[str, ...]:
        return ("vin", self.vin)

    @property
    def searched_vin(self) -> str | None:
        return self.vin

    def answer_fields(self) -> dict[str, str | None]:
        """What an answer says it searched, beside the VIN (a VIN search: nothing more)."""
        return {}


class PlateSearch(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: Literal["plate"] = "plate"
    plate: str
    state: str | None = None

    @classmethod
    def parse(cls, raw: str, state: str | None, region: str) -> PlateSearch:
        return cls(plate=validate_plate(raw), state=validate_state(state, region))

    def label(self) -> str:
        return f"plate {self.plate}" + (f" {self.state}" if self.state else "")

    def noun(self) -> str:
        return "plate"

    def key(self) -> tuple[str, ...]:
        return ("plate", self.plate, self.state or "")

    @property
    def searched_vin(self) -> str | None:
        return None

    def answer_fields(self) -> dict[str, str | None]:
        return {"plate": self.plate, "state": self.state}


def _kind(value: object) -> str | None:
    """Which kind a stored search is: its ``kind``, which compact dumps leave out as a default."""
    if isinstance(value, dict):
        return str(value.get("kind") or ("plate" if "plate" in value else "vin"))
    return getattr(value, "kind", None)


Search = Annotated[Annotated[VinSearch, Tag("vin")] | Annotated[PlateSearch, Tag("plate")], Discriminator(_kind)]


def search_for(*, vin: str | None, plate: str | None, state: str | None, region: str) -> Search:
    """The search a caller's arguments make: a plate when one is given, else the VIN (each checked)."""
    return PlateSearch.parse(plate, state, region) if plate else VinSearch.parse(vin or "")


def validate_plate(raw: str) -> str:
    """The plate as AutoGrab takes it (letters and digits, upper case), or ``InvalidArgumentError`` saying why."""
    if not isinstance(raw, str):
        raise InvalidArgumentError("The plate must be given as text.")
    plate = _PLATE_SEPARATORS.sub("", raw).translate(_ASCII_UPPER)
    if not _PLATE.fullmatch(plate):
        # The plate itself is not repeated (in the UK it is personal data, and errors are logged).
        others = sorted({c for c in plate if not ("A" <= c <= "Z" or "0" <= c <= "9")})
        problem = (
            "no plate was given"
            if not plate
            else f"the plate has {len(plate)} characters"
            if not others
            else f"the plate has {', '.join(repr(c) for c in others[:3])} in it"
        )
        raise InvalidArgumentError(
            f"{problem}; a plate is 1 to {PLATE_MAX} letters and digits (spaces and dashes are fine).",
            "Read the plate again from the car or its registration papers.",
        )
    return plate


def validate_state(state: str | None, region: str) -> str | None:
    """The AU state (required there, any case), or None elsewhere (where a state is refused)."""
    given = state.strip().upper() if isinstance(state, str) and state.strip() else None
    if region != "au":
        if given is not None:
            raise InvalidArgumentError(
                f"state is {given[:10]!r}, but {region.upper()} plates have no state; leave it out.",
                "Call again without state.",
            )
        return None
    if given not in AU_STATES:
        said = "missing" if given is None else repr(given[:10])
        raise InvalidArgumentError(
            f"state is {said}; an Australian plate needs its state: {', '.join(AU_STATES)}.",
            "Ask the user which state the vehicle is registered in, then call again with it.",
        )
    return given
