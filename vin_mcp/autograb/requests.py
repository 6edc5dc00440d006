"""What a VIN search asks for: one model from the tool (or the command line) down to the HTTP request."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LookupRequest(BaseModel):
    """The lookup's arguments. The service passes it on with ``vin`` normalised and ``region`` resolved."""

    model_config = ConfigDict(frozen=True)

    vin: str
    region: str | None = None  # None: the server's AUTOGRAB_REGION
    include_extended_data: bool = False
    prefer_more_results: bool = False
    reference_id: str | None = None  # None: the server's AUTOGRAB_REFERENCE_ID
