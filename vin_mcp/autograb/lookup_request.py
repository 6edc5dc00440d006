"""What a search asks for: one model from the tool (or the command line) down to the HTTP request."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from vin_mcp.vin.identifiers import Search


class LookupRequest(BaseModel):
    """A lookup's arguments: what to search by (a VIN or a plate, already checked) and how."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    search: Search
    region: str | None = None  # None: the server's AUTOGRAB_REGION
    include_extended_data: bool = False
    prefer_more_results: bool = False
    reference_id: str | None = None  # None: the server's AUTOGRAB_REFERENCE_ID
