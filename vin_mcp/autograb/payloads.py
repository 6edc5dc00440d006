"""The AutoGrab v2 payloads as the client reads them: tolerant of every documented variant.

This is where untrusted text enters, so it is cleaned here, once (``sanitise.clean_text``), and
capped. Beyond that, one bad field never costs the answer: text that is not text, numbers that are not
finite (``NaN``, ``1e999``) and list entries that are not objects are dropped; missing optional fields
become ``None``; ``null`` where a list belongs becomes ``[]``; unknown fields are ignored, so a cached
answer holds only what the answers use. Only a body whose ``vehicle`` is not an object is refused
(``ValidationError``, which the client turns into ``UnexpectedResponseError``).
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr, field_validator, model_validator

from vin_mcp.autograb.text import clean_optional

# Caps on third-party text and lists, so one odd record cannot flood the assistant's context or
# the cache (the largest possible cached answer follows from these).
DESCRIPTION_LIMIT = 300
FIELD_LIMIT = 120
SHORT_LIMIT = 40
CODE_LIMIT = 20
KEY_LIMIT = 60
OPTIONS_LIMIT = 40
CANDIDATES_LIMIT = 10
INCIDENTS_LIMIT = 20
EXTENDED_FIELDS_LIMIT = 40
# Real vehicles carry tens to a few hundred factory codes; more than this is not a vehicle.
BUILD_CODES_LIMIT = 1_000
# Larger magnitudes are not prices, sizes or years; they would also overflow int() and round().
_NUMBER_LIMIT = 1e12


def _text(limit: int) -> BeforeValidator:
    def clean(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return clean_optional(value, limit)

    return BeforeValidator(clean)


def _finite_number(value: Any) -> float | int | None:
    """Numbers sometimes arrive as strings ("1,390"), or as junk: keep a finite number or drop it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "").strip())
        except ValueError:
            return None
    if isinstance(value, int) and abs(value) <= _NUMBER_LIMIT:
        return value
    if isinstance(value, float) and math.isfinite(value) and abs(value) <= _NUMBER_LIMIT:
        return int(value) if value.is_integer() else value
    return None


def _whole_number(value: Any) -> int | None:
    number = _finite_number(value)
    return None if number is None else round(number)


def _objects(limit: int) -> BeforeValidator:
    """A list of objects: anything else in it (``null``, a string) is skipped; at most ``limit`` kept."""

    def keep(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            return []
        return [item for item in value if isinstance(item, dict)][:limit]

    return BeforeValidator(keep)


def _object_or_none(value: Any) -> Any:
    return value if isinstance(value, dict) else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _scalars(value: Any) -> dict[str, str] | None:
    """Registration data: flat text fields only, cleaned and capped in number and length."""
    if not isinstance(value, dict):
        return None
    kept: dict[str, str] = {}
    # The UK's record nests one level (vehicle_identification{vehicle_identification_number, ...}): its fields
    # are kept as "vehicle_identification.vehicle_identification_number".
    fields = [
        *((key, item) for key, item in value.items() if not isinstance(item, dict)),
        *(
            (f"{key}.{sub}", subitem)
            for key, item in value.items()
            if isinstance(item, dict)
            for sub, subitem in itertools.islice(item.items(), EXTENDED_FIELDS_LIMIT)
        ),
    ]
    for key, item in fields:
        if len(kept) >= EXTENDED_FIELDS_LIMIT:
            break
        if item is None or isinstance(item, dict | list) or (isinstance(item, float) and not math.isfinite(item)):
            continue
        name, text = clean_optional(key, KEY_LIMIT), clean_optional(item, FIELD_LIMIT)
        if name and text:
            kept[name] = text
    return kept or None


Text = Annotated[str | None, _text(FIELD_LIMIT)]
ShortText = Annotated[str | None, _text(SHORT_LIMIT)]
Number = Annotated[float | None, BeforeValidator(_finite_number)]
WholeNumber = Annotated[int | None, BeforeValidator(_whole_number)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]
RegistrationData = Annotated[dict[str, str] | None, BeforeValidator(_scalars)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Answer(_Payload):
    """A whole response. ``test_data``: served by vin-mcp's own fake of the API (its TEST_DATA_HEADER), set by
    the client from the response headers, never from the body."""

    _test_data: bool = PrivateAttr(False)

    @property
    def test_data(self) -> bool:
        return self._test_data

    def marked(self, test_data: bool) -> Self:
        self._test_data = test_data
        return self


class Envelope(_Payload):
    """What every answer may say about itself: ``{"error": true, "message": ...}`` or ``"success": false``.

    ``odd``: a flag that is neither a boolean, "true"/"false" nor null (``"error": 1``, ``"success": 0``,
    ``"error": "yes"``). Nobody can tell what it means, so the client treats it as a failure, never a match.
    """

    success: Flag = None
    error: Flag = None
    message: Annotated[str | None, _text(160)] = None
    odd: bool = False

    @model_validator(mode="before")
    @classmethod
    def _spot_odd_flags(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        flags = (data.get(name) for name in ("success", "error"))
        odd = any(value is not None and _flag(value) is None for value in flags)
        return {**data, "odd": odd}


class VendorOption(_Payload):
    detail: Text = None
    price: Number = None


class VendorVehicle(_Payload):
    vin: ShortText = None  # a plate search's match carries its VIN
    title: Text = None
    year: ShortText = None
    make: Text = None
    model: Text = None
    badge: Text = None
    series: Text = None
    body_type: Text = None
    body_config: Text = None
    transmission: Text = None
    transmission_type: Text = None
    fuel: Text = None
    fuel_type: Text = None
    drive: Text = None
    drive_type: Text = None
    num_doors: WholeNumber = None
    num_seats: WholeNumber = None
    num_cylinders: WholeNumber = None
    capacity_cc: WholeNumber = None
    power_kw: Number = None
    torque_nm: Number = None
    options: Annotated[list[VendorOption], _objects(OPTIONS_LIMIT * 2)] = []

    @field_validator("options", mode="after")
    @classmethod
    def _named_options_only(cls, options: list[VendorOption]) -> list[VendorOption]:
        return [option for option in options if option.detail][:OPTIONS_LIMIT]


class VendorIncident(_Payload):
    code: Text = None
    type_code: Text = None
    damage_codes: Text = None
    jurisdiction: Text = None
    recorded_date: ShortText = None
    odometer: WholeNumber = None


class VendorWriteoff(_Payload):
    incident_list: Annotated[list[VendorIncident], _objects(INCIDENTS_LIMIT)] = []


class SearchResponse(_Answer):
    """A VIN or plate search's answer (the same envelope for both)."""

    vehicle: VendorVehicle | None = None
    vin: ShortText = None
    upstream_vehicle: Annotated[str | None, _text(DESCRIPTION_LIMIT)] = None
    confidence: ShortText = None
    colour: Text = None
    additional_vehicles: Annotated[list[VendorVehicle], _objects(CANDIDATES_LIMIT)] = []
    extended_data: RegistrationData = None
    # The UK returns the registration authority's data under this key instead.
    additional_upstream_data: RegistrationData = None
    writeoff_info: Annotated[VendorWriteoff | None, BeforeValidator(_object_or_none)] = None

    @field_validator("vehicle", mode="before")
    @classmethod
    def _empty_vehicle_is_none(cls, value: Any) -> Any:
        return None if value in ({}, [], "") else value

    @property
    def registration_data(self) -> dict[str, str] | None:
        return self.extended_data or self.additional_upstream_data or None


class VendorFeature(_Payload):
    code: Annotated[str | None, _text(CODE_LIMIT)] = None
    value: Text = None


class BuildVehicle(_Payload):
    build_date: ShortText = None
    make: Text = None
    model: Text = None
    features: Annotated[list[VendorFeature], _objects(BUILD_CODES_LIMIT)] = []
    features_sent: int = 0  # how many AutoGrab sent, before BUILD_CODES_LIMIT; never read from the body

    @model_validator(mode="before")
    @classmethod
    def _count_features(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        features = data.get("features")
        sent = sum(1 for item in features if isinstance(item, dict)) if isinstance(features, list) else 0
        return {**data, "features_sent": sent}


class BuildDataResponse(_Answer):
    vehicle: BuildVehicle | None = None
