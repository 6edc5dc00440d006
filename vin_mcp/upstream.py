"""The AutoGrab v2 payloads as the client reads them: tolerant of every documented variant.

Unknown fields are kept (``extra="allow"``) and ignored; missing optional fields become
``None``; ``null`` where a list belongs becomes ``[]``; ``year`` may be a string or a number.
Anything that cannot be read as the documented shape raises ``ValidationError``, which the
client turns into ``UnexpectedResponseError``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


def _list_or_empty(value: Any) -> Any:
    return [] if value is None else value


def _number_or_none(value: Any) -> Any:
    """Numbers sometimes arrive as strings ("1390"), or as junk: keep the number or drop it."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def _whole_number_or_none(value: Any) -> Any:
    number = _number_or_none(value)
    return None if number is None else round(number)


class OptionPack(_Tolerant):
    detail: str | None = None
    price: float | None = None

    _price = field_validator("price", mode="before")(_number_or_none)


class RawVehicle(_Tolerant):
    id: str | None = None
    title: str | None = None
    year: str | None = None
    make: str | None = None
    model: str | None = None
    badge: str | None = None
    series: str | None = None
    model_year: str | None = None
    release_month: int | None = None
    release_year: int | None = None
    body_type: str | None = None
    body_config: str | None = None
    transmission: str | None = None
    transmission_type: str | None = None
    fuel: str | None = None
    fuel_type: str | None = None
    engine: str | None = None
    engine_type: str | None = None
    drive: str | None = None
    drive_type: str | None = None
    num_doors: int | None = None
    num_seats: int | None = None
    num_gears: int | None = None
    num_cylinders: int | None = None
    capacity_cc: int | None = None
    power_kw: float | None = None
    torque_nm: float | None = None
    options: list[OptionPack] = []

    _options = field_validator("options", mode="before")(_list_or_empty)
    _whole_numbers = field_validator(
        "release_month",
        "release_year",
        "num_doors",
        "num_seats",
        "num_gears",
        "num_cylinders",
        "capacity_cc",
        mode="before",
    )(_whole_number_or_none)
    _numbers = field_validator("power_kw", "torque_nm", mode="before")(_number_or_none)

    @field_validator("options", mode="after")
    @classmethod
    def _drop_empty_options(cls, options: list[OptionPack]) -> list[OptionPack]:
        return [option for option in options if option.detail]


class Incident(_Tolerant):
    code: str | None = None
    type_code: str | None = None
    damage_codes: str | None = None
    jurisdiction: str | None = None
    recorded_date: str | None = None


class WriteoffInfo(_Tolerant):
    incident_list: list[Incident] = []

    _incidents = field_validator("incident_list", mode="before")(_list_or_empty)


class VinSearchResponse(_Tolerant):
    success: bool | None = None
    vehicle: RawVehicle | None = None
    upstream_vehicle: str | None = None
    confidence: str | None = None
    colour: str | None = None
    vin: str | None = None
    additional_vehicles: list[RawVehicle] = []
    extended_data: dict[str, Any] | None = None
    # The UK returns the registration authority's data under this key instead.
    additional_upstream_data: dict[str, Any] | None = None
    writeoff_info: WriteoffInfo | None = None

    _additional = field_validator("additional_vehicles", mode="before")(_list_or_empty)

    @field_validator("vehicle", mode="before")
    @classmethod
    def _empty_vehicle_is_none(cls, value: Any) -> Any:
        return None if value in ({}, [], "") else value

    @property
    def registration_data(self) -> dict[str, Any] | None:
        return self.extended_data or self.additional_upstream_data or None


class BuildFeature(_Tolerant):
    code: str | None = None
    value: str | None = None


class BuildVehicle(_Tolerant):
    vin: str | None = None
    build_date: str | None = None
    make: str | None = None
    model: str | None = None
    features: list[BuildFeature] = []

    _features = field_validator("features", mode="before")(_list_or_empty)


class BuildDataResponse(_Tolerant):
    success: bool | None = None
    vehicle: BuildVehicle | None = None
