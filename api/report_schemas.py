"""Bodies and answers of /api/v1/reports: availability, utilization, exclusions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chargestream.api.schemas import ChargePointId, Text, UtcDateTime
from chargestream.domain.availability import ExclusionKind, Totals
from chargestream.domain.records import AvailabilityExclusion
from chargestream.domain.utilization import Grouping, UtilizationRow
from chargestream.streams.reports import MAX_PERIOD, Availability

SiteId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class ExclusionIn(BaseModel):
    """POST /reports/exclusions: a window of one charge point, a site, or the fleet (neither)."""

    model_config = ConfigDict(extra="forbid")

    start: UtcDateTime
    end: UtcDateTime
    kind: ExclusionKind = Field(
        description="outage: outside the operator's control; maintenance: planned"
    )
    note: Annotated[Text, StringConstraints(max_length=500)] = ""
    charge_point_id: ChargePointId | None = None
    site_id: SiteId | None = None

    @model_validator(mode="after")
    def _window(self) -> ExclusionIn:
        if self.charge_point_id is not None and self.site_id is not None:
            raise ValueError("give a charge point or a site (or neither: the fleet), not both")
        if self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        if self.end - self.start > MAX_PERIOD:
            raise ValueError(f"an exclusion may last at most {MAX_PERIOD.days} days")
        return self


class TotalsOut(BaseModel):
    observed_s: float = Field(description="Seconds with a known status inside the period")
    down_s: float = Field(description="Seconds down (Unavailable, Faulted, Offline, ...)")
    excluded_s: float = Field(description="Down seconds inside exclusion windows")
    uptime_percent: float | None = Field(description="NEVI uptime; null: nothing observed")

    @classmethod
    def build(cls, totals: Totals) -> TotalsOut:
        return cls(
            observed_s=round(totals.observed_s, 3),
            down_s=round(totals.down_s, 3),
            excluded_s=round(totals.excluded_s, 3),
            uptime_percent=totals.uptime_percent,
        )


class PortAvailabilityOut(TotalsOut):
    charge_point_id: str
    connector_id: int = Field(description="The connector (OCPP 1.6) or EVSE (2.0.1)")
    site_id: str | None
    seconds_by_status: dict[str, float]


class ChargePointAvailabilityOut(TotalsOut):
    charge_point_id: str
    site_id: str | None


class SiteAvailabilityOut(TotalsOut):
    site_id: str


class AvailabilityOut(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime = Field(description="The period's end, at most now")
    ports: list[PortAvailabilityOut]
    charge_points: list[ChargePointAvailabilityOut]
    sites: list[SiteAvailabilityOut]
    fleet: TotalsOut
    exclusions: list[AvailabilityExclusion] = Field(description="Those overlapping the period")

    @classmethod
    def build(cls, availability: Availability) -> AvailabilityOut:
        report, site_of = availability.report, availability.site_of
        return cls.model_validate(
            {
                "from": report.period.start,
                "to": report.period.end,
                "ports": [
                    PortAvailabilityOut(
                        charge_point_id=port.charge_point_id,
                        connector_id=port.connector_id,
                        site_id=site_of.get(port.charge_point_id),
                        seconds_by_status={
                            status: round(seconds, 3)
                            for status, seconds in sorted(port.seconds_by_status.items())
                        },
                        **TotalsOut.build(port.totals).model_dump(),
                    )
                    for port in report.ports
                ],
                "charge_points": [
                    ChargePointAvailabilityOut(
                        charge_point_id=cp,
                        site_id=site_of.get(cp),
                        **TotalsOut.build(totals).model_dump(),
                    )
                    for cp, totals in sorted(report.charge_points.items())
                ],
                "sites": [
                    SiteAvailabilityOut(site_id=site, **TotalsOut.build(totals).model_dump())
                    for site, totals in sorted(report.sites.items())
                ],
                "fleet": TotalsOut.build(report.fleet),
                "exclusions": list(availability.exclusions),
            }
        )


class UtilizationOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    group: Grouping
    rows: list[UtilizationRow]
