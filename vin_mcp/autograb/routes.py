"""Where each kind of search is asked: the vendor's route and the parameters only it takes."""

from __future__ import annotations

from vin_mcp.vin.identifiers import PlateSearch, Search, VinSearch


def search_route(search: Search) -> tuple[str, dict[str, str]]:
    """(path, parameters of this kind) for a VIN search or a plate search (``state`` in AU)."""
    if isinstance(search, VinSearch):
        return f"/v2/vehicles/vins/{search.vin}", {}
    assert isinstance(search, PlateSearch)
    return f"/v2/vehicles/registrations/{search.plate}", {"state": search.state} if search.state else {}


def build_data_route(vin: str) -> str:
    return f"/v2/vehicles/vins/{vin}/build-data"
