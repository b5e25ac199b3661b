"""Cached reads of the availability and utilization reports (``streams/reports.py``).

Results are flat rows (``domain/report_tables.py``), the same the API's CSV holds, cached
for ``queries.SLOW`` seconds per period and scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from chargestream.domain.records import AvailabilityExclusion
from chargestream.domain.report_tables import (
    Row,
    availability_columns,
    availability_rows,
    utilization_rows,
)
from chargestream.domain.settings import Settings
from chargestream.domain.utilization import Grouping
from chargestream.streams.reports import Scope, read_availability, read_utilization, report_period
from chargestream.ui.data import runner
from chargestream.ui.queries import SLOW

REPORT_TIMEOUT = 120.0  # seconds: a long period of a large fleet takes a while


@dataclass(frozen=True)
class AvailabilityTable:
    rows: list[Row]
    columns: list[str]
    exclusions: int  # exclusion windows overlapping the period


@st.cache_data(ttl=SLOW, show_spinner="Computing availability…")
def availability(
    settings: Settings, start: datetime, end: datetime, site_id: str | None
) -> AvailabilityTable:
    """ReportRefused for a period the bounds refuse."""
    db = runner(settings)
    period = report_period(start, end, datetime.now(UTC))
    found = db.run(read_availability(db.store, period, Scope(site_id=site_id)), REPORT_TIMEOUT)
    rows = availability_rows(found.report, found.site_of)
    return AvailabilityTable(rows, availability_columns(found.report), len(found.exclusions))


@st.cache_data(ttl=SLOW, show_spinner="Computing utilization…")
def utilization(settings: Settings, start: datetime, end: datetime, group: Grouping) -> list[Row]:
    db = runner(settings)
    period = report_period(start, end, datetime.now(UTC))
    return utilization_rows(db.run(read_utilization(db.store, period, group), REPORT_TIMEOUT))


@st.cache_data(ttl=SLOW, show_spinner=False)
def exclusions(settings: Settings) -> list[AvailabilityExclusion]:
    db = runner(settings)
    return db.run(db.store.list_exclusions())
