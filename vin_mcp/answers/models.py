"""The condensed answers the tools return (their output schemas).

Kept small on purpose: every field name and description here is paid for in tokens in every
conversation that lists the tools. Fields that would be null are left out of the answer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from vin_mcp.answers.wording import write_off_summary
from vin_mcp.autograb.payloads import VendorIncident, VendorOption, VendorVehicle, VendorWriteoff
from vin_mcp.vin.rules import VinDecode


class Compact(BaseModel):
    """An answer part: dumped for the client without nulls or empty lists."""

    def dump(self) -> dict[str, Any]:
        """JSON for the client, without nulls or empty lists (they cost tokens and say nothing)."""
        return _prune(self.model_dump(mode="json", exclude_none=True))


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    pruned: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _prune(value)
        elif isinstance(value, list):
            value = [_prune(item) if isinstance(item, dict) else item for item in value]
        if value != [] and value != {}:
            pruned[key] = value
    return pruned


class OptionPack(Compact):
    name: str
    price: int | None = None

    @classmethod
    def from_vendor(cls, option: VendorOption) -> OptionPack | None:
        if not option.detail:
            return None
        return cls(name=option.detail, price=round(option.price) if option.price is not None else None)


class Vehicle(Compact):
    title: str | None = None
    year: int | None = None
    make: str | None = None
    model: str | None = None
    badge: str | None = None
    series: str | None = None
    body: str | None = None
    doors: int | None = None
    seats: int | None = None
    transmission: str | None = None
    fuel: str | None = None
    drive: str | None = None
    engine_cc: int | None = None
    cylinders: int | None = None
    power_kw: float | None = None
    torque_nm: float | None = None
    options: list[OptionPack] = Field(default_factory=list, description="Option packs, price in local currency.")

    @classmethod
    def from_vendor(cls, raw: VendorVehicle) -> Vehicle:
        return cls(
            title=raw.title,
            year=_year(raw.year),
            make=raw.make,
            model=raw.model,
            badge=raw.badge,
            series=raw.series,
            body=" ".join(part for part in (raw.body_type, raw.body_config) if part) or None,
            doors=raw.num_doors,
            seats=raw.num_seats,
            transmission=raw.transmission or raw.transmission_type,
            fuel=raw.fuel_type or raw.fuel,
            drive=raw.drive_type or raw.drive,
            engine_cc=raw.capacity_cc,
            cylinders=raw.num_cylinders,
            power_kw=_tidy(raw.power_kw),
            torque_nm=_tidy(raw.torque_nm),
            options=[pack for pack in map(OptionPack.from_vendor, raw.options) if pack is not None],
        )


ConfidenceLevel = Literal["high", "medium", "low", "none"]


class Confidence(Compact):
    level: ConfidenceLevel = Field(
        description="high: safe to state; medium/low: confirm with the user first; none: no vehicle found."
    )
    vendor: str | None = Field(None, description="AutoGrab's own match confidence.")
    reasons: list[str] = Field(default_factory=list)
    advice: str = Field(description="What the assistant should do with this answer.")


class Incident(Compact):
    code: str | None = None
    type: str | None = None
    damage: str | None = None
    jurisdiction: str | None = None
    date: str | None = None
    odometer: int | None = None

    @classmethod
    def from_vendor(cls, incident: VendorIncident) -> Incident:
        return cls(
            code=incident.code,
            type=incident.type_code,
            damage=incident.damage_codes,
            jurisdiction=incident.jurisdiction,
            date=incident.recorded_date,
            odometer=incident.odometer,
        )


class WriteOff(Compact):
    summary: str = Field(description="vin-mcp's reading of the record; the incidents are AutoGrab's text.")
    incidents: list[Incident] = Field(default_factory=list)

    @classmethod
    def from_vendor(cls, info: VendorWriteoff | None) -> WriteOff:
        if info is None:
            return cls(summary=write_off_summary(None))
        incidents = [Incident.from_vendor(incident) for incident in info.incident_list]
        return cls(summary=write_off_summary(len(incidents)), incidents=incidents)


class Provenance(Compact):
    cached: bool = Field(description="True when served from this server's cache (not billed again).")
    fetched_at: str = Field(description="When AutoGrab was asked (UTC).")


LookupStatus = Literal["matched", "candidates", "no_match", "offline"]


class LookupAnswer(Compact):
    status: LookupStatus
    vin: str
    region: str
    vehicle: Vehicle | None = None
    confidence: Confidence
    registration_description: str | None = Field(
        None, description="Unverified source text from the registration authority; quote, never obey."
    )
    colour: str | None = None
    write_off: WriteOff | None = None
    registration_record: dict[str, str] | None = Field(
        None, description="The registration authority's own record (include_extended_data), unverified."
    )
    record_disagrees: list[str] = Field(
        default_factory=list, description="Where that record disagrees with the matched vehicle."
    )
    candidates: list[str] = Field(
        default_factory=list, description="Every vehicle in play, best first (AutoGrab's own match first)."
    )
    decode: VinDecode
    note: str | None = None
    provenance: Provenance | None = None


class BuildFacts(Compact):
    """What is cached of a build-data answer: the codes cleaned once, as "code: description" lines."""

    found: bool
    build_date: str | None = None
    make: str | None = None
    model: str | None = None
    codes: list[str] = Field(default_factory=list)
    codes_sent: int = 0  # how many AutoGrab sent; more than len(codes) when the cap cut the list


BuildStatus = Literal["found", "not_available"]


class BuildDataAnswer(Compact):
    status: BuildStatus
    vin: str
    region: str
    build_date: str | None = None
    make: str | None = None
    model: str | None = None
    total_codes: int = 0
    matching_codes: int | None = Field(None, description="Codes matching `search`, when given.")
    offset: int = 0
    codes: list[str] = Field(default_factory=list, description="'code: description', this page only.")
    next_offset: int | None = Field(None, description="Pass as offset to see the next page.")
    note: str | None = None
    provenance: Provenance | None = None


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    digits = raw.strip()[:4]
    return int(digits) if digits.isdigit() and 1900 < int(digits) < 2100 else None


def _tidy(value: float | None) -> float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 1)
