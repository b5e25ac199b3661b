"""Availability and utilization reports (streams/reports.py reads them), and the operator's
exclusion windows (docs/operations.md, "Availability and uptime")."""

from __future__ import annotations

import uuid
from datetime import datetime

from chargestream.api.report_schemas import AvailabilityOut, ExclusionIn, UtilizationOut
from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.records import AvailabilityExclusion
from chargestream.domain.report_tables import (
    UTILIZATION_COLUMNS,
    availability_columns,
    availability_rows,
    to_csv,
    utilization_rows,
)
from chargestream.domain.utilization import Grouping
from chargestream.storage.base import Store
from chargestream.streams.reports import (
    Availability,
    ReportRefused,
    Scope,
    read_availability,
    read_utilization,
    report_period,
)

MAX_EXCLUSIONS = 10_000


def _whole_ms(moment: datetime) -> datetime:
    """What every store keeps: the answer to a POST is what a GET reads back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class ReportService:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def _availability(self, start: datetime, end: datetime, scope: Scope) -> Availability:
        try:
            period = report_period(start, end, self._clock())
            if scope.site_id is not None and await self._store.get_site(scope.site_id) is None:
                raise NotFound(f"unknown site {scope.site_id!r}")
            return await read_availability(self._store, period, scope)
        except ReportRefused as refused:
            raise InvalidInput(str(refused)) from None

    async def availability(self, start: datetime, end: datetime, scope: Scope) -> AvailabilityOut:
        return AvailabilityOut.build(await self._availability(start, end, scope))

    async def availability_csv(self, start: datetime, end: datetime, scope: Scope) -> str:
        availability = await self._availability(start, end, scope)
        rows = availability_rows(availability.report, availability.site_of)
        return to_csv(rows, availability_columns(availability.report))

    async def utilization(self, start: datetime, end: datetime, group: Grouping) -> UtilizationOut:
        try:
            period = report_period(start, end, self._clock())
            rows = await read_utilization(self._store, period, group)
        except ReportRefused as refused:
            raise InvalidInput(str(refused)) from None
        return UtilizationOut.model_validate(
            {"from": period.start, "to": period.end, "group": group, "rows": rows}
        )

    async def utilization_csv(self, start: datetime, end: datetime, group: Grouping) -> str:
        report = await self.utilization(start, end, group)
        return to_csv(utilization_rows(report.rows), UTILIZATION_COLUMNS)

    async def exclusions(self) -> list[AvailabilityExclusion]:
        return await self._store.list_exclusions()

    async def add_exclusion(self, body: ExclusionIn) -> AvailabilityExclusion:
        if len(await self._store.list_exclusions()) >= MAX_EXCLUSIONS:
            raise InvalidInput(f"at most {MAX_EXCLUSIONS} exclusions: delete old ones first")
        exclusion = AvailabilityExclusion(
            exclusion_id=str(uuid.uuid4()),
            start=_whole_ms(body.start),
            end=_whole_ms(body.end),
            kind=body.kind.value,
            created_at=_whole_ms(self._clock()),
            note=body.note,
            charge_point_id=body.charge_point_id,
            site_id=body.site_id,
        )
        await self._store.put_exclusion(exclusion)
        return exclusion

    async def delete_exclusion(self, exclusion_id: str) -> None:
        if not await self._store.delete_exclusion(exclusion_id):
            raise NotFound(f"unknown exclusion {exclusion_id!r}")
