"""Manufacturer names are compared by brand family, never by string equality."""

from __future__ import annotations

import pytest

from vin_mcp.vin.makes import build_data_covers, same_maker


@pytest.mark.parametrize(
    ("vin_manufacturer", "make", "expected"),
    [
        ("Genesis", "Hyundai", True),  # KMH reads Genesis, most such vehicles are Hyundais
        ("Ford Australia", "Ford", True),
        ("Ford of Europe", "FORD", True),
        ("Fiat Automobiles", "Fiat", True),
        ("Škoda", "Skoda", True),
        ("Mercedes Benz", "Mercedes-Benz", True),
        ("General Motors-Holden", "Holden", True),
        ("Opel/Vauxhall", "Vauxhall", True),
        ("Fuji Heavy Industries", "Subaru", True),
        ("Toyota", "Volkswagen", False),
        ("Honda", "Ford", False),
        ("BMW", "Mercedes-Benz", False),
        ("Replica/Kit Makes", "Ford", None),  # cannot be placed: never a conflict
        (None, "Ford", None),
        ("Toyota", None, None),
    ],
)
def test_same_maker(vin_manufacturer: str | None, make: str | None, expected: bool | None) -> None:
    assert same_maker(vin_manufacturer, make) is expected


@pytest.mark.parametrize(
    ("manufacturer", "expected"),
    [
        ("Volkswagen", True),
        ("Škoda", True),
        ("Genesis", True),  # Hyundai family is covered
        ("Ford Australia", True),
        ("Toyota", False),
        ("Lexus", False),
        ("Honda", False),
        ("Mazda", False),
        ("Tesla Motors USA", False),
        ("Subaru", False),
        ("Replica/Kit Makes", None),
        (None, None),
    ],
)
def test_build_data_coverage(manufacturer: str | None, expected: bool | None) -> None:
    assert build_data_covers(manufacturer) is expected
