"""Manufacturer names are compared by brand family, never by string equality."""

from __future__ import annotations

from typing import Any

import pytest

from vin_mcp.vin.makes import WMI_CORRECTIONS, build_data_covers, same_maker
from vin_mcp.vin.rules import wmi_manufacturer


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


@pytest.mark.parametrize(
    ("wmi", "brand", "api_make"),
    [
        ("JTN", "Toyota", "Toyota"),
        ("KMH", "Hyundai", "Hyundai"),
        ("JF1", "Subaru", "Subaru"),
        ("6G1", "Holden", "Holden"),
        ("6H8", "Holden", "Holden"),
        ("WDD", "Mercedes-Benz", "Mercedes-Benz"),
        ("WDC", "Mercedes-Benz", "Mercedes-Benz"),
        ("LSJ", "MG", "MG"),
        ("LGW", "GWM (Great Wall / Haval)", "GWM"),
        ("LGW", "GWM (Great Wall / Haval)", "Haval"),
        # Uncorrected entries that were already right stay vininfo's.
        ("JTD", "Toyota", "Toyota"),
        ("WVW", "Volkswagen", "Volkswagen"),
        ("6FP", "Ford Australia", "Ford"),
    ],
)
def test_makers_are_the_brands_our_users_recognise(wmi: str, brand: str, api_make: str) -> None:
    assert wmi_manufacturer(wmi) == brand
    assert same_maker(brand, api_make) is True


def test_every_correction_is_a_brand_with_a_family() -> None:
    assert all(same_maker(brand, brand) for brand in WMI_CORRECTIONS.values())


@pytest.mark.anyio
async def test_the_build_data_refusal_names_the_corrected_brand(fake: Any, settings: Any) -> None:
    from tests.conftest import connect

    async with connect(settings) as client:
        toyota = await client.call_tool("get_factory_build_data", {"vin": "JTNZZZ1KZKU000001"})
        subaru = await client.call_tool("get_factory_build_data", {"vin": "JF1ZZZ1KZKU000001"})
    assert "Toyota vehicles" in toyota.content[0].text and "Scion" not in toyota.content[0].text  # type: ignore[union-attr]
    assert "Subaru vehicles" in subaru.content[0].text  # type: ignore[union-attr]
    assert fake.calls() == []
