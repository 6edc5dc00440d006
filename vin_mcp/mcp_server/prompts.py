"""The server's one prompt: a support desk's opening move, so the prompts capability it advertises holds
something real."""

from typing import Annotated

from mcp.server.mcpserver.prompts import Prompt
from pydantic import Field


def identify_vehicle(
    vin_or_plate: Annotated[str, Field(description="The VIN, or the number plate, the customer gave")],
    state: Annotated[str | None, Field(description="For an Australian plate: its state")] = None,
) -> str:
    """Identify a customer's vehicle from its VIN or number plate, and say how sure the answer is."""
    plate = f" (state {state})" if state else ""
    return (
        f"A customer gave {vin_or_plate!r}{plate} for their vehicle. If it is a 17-character VIN, call lookup_vin; "
        "otherwise treat it as a number plate and call lookup_registration (Australian plates need the state: ask "
        "for it if it is missing). Tell me the vehicle only if the answer's status is 'matched' with confidence "
        "'high'; otherwise follow its advice, and never guess a vehicle."
    )


def build_prompts() -> list[Prompt]:
    return [Prompt.from_function(identify_vehicle, title="Identify a customer's vehicle")]
