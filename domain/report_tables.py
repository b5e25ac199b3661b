"""Reports as flat rows, for CSV (API and dashboard) and printable tables.

An availability table has one row per port, then per charge point, per site and the fleet
(column ``level``); times are hours rounded to 3 decimals, one column per status seen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict

from chargestream.domain.availability import AvailabilityReport, Totals
from chargestream.domain.utilization import UtilizationRow

Cell = str | int | float | None
Row = dict[str, Cell]

LEADING = ("level", "site_id", "charge_point_id", "connector_id")
TOTALS = ("observed_h", "down_h", "excluded_h", "uptime_percent")
UTILIZATION_COLUMNS = ("group", "sessions", "energy_kwh", "charging_h", "idle_h")


def hours(seconds: float) -> float:
    return round(seconds / 3600, 3)


def _totals(totals: Totals) -> Row:
    return {
        "observed_h": hours(totals.observed_s),
        "down_h": hours(totals.down_s),
        "excluded_h": hours(totals.excluded_s),
        "uptime_percent": totals.uptime_percent,
    }


def status_columns(report: AvailabilityReport) -> list[str]:
    return sorted({status for port in report.ports for status in port.seconds_by_status})


def availability_rows(report: AvailabilityReport, site_of: Mapping[str, str]) -> list[Row]:
    """Ports, then charge points, sites and the fleet; missing statuses are 0 h."""
    statuses = status_columns(report)
    rows: list[Row] = []
    for port in report.ports:
        times = {f"{s}_h": hours(port.seconds_by_status.get(s, 0.0)) for s in statuses}
        site = site_of.get(port.charge_point_id)
        leading: Row = {
            "level": "port",
            "site_id": site,
            "charge_point_id": port.charge_point_id,
            "connector_id": port.connector_id,
        }
        rows.append(leading | times | _totals(port.totals))
    for cp, totals in sorted(report.charge_points.items()):
        rows.append(_summary("charge_point", site_of.get(cp), cp, totals))
    for site, totals in sorted(report.sites.items()):
        rows.append(_summary("site", site, None, totals))
    rows.append(_summary("fleet", None, None, report.fleet))
    return rows


def _summary(level: str, site: str | None, cp: str | None, totals: Totals) -> Row:
    leading: Row = {"level": level, "site_id": site, "charge_point_id": cp, "connector_id": None}
    return leading | _totals(totals)


def availability_columns(report: AvailabilityReport) -> list[str]:
    return [*LEADING, *(f"{s}_h" for s in status_columns(report)), *TOTALS]


def utilization_rows(rows: Iterable[UtilizationRow]) -> list[Row]:
    return [asdict(row) for row in rows]


def to_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """CSV with a header; absent cells empty. Text cells that a spreadsheet would run as a
    formula (charge point ids, id tags come from charge points) are quoted with a ``'``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _safe(v) for k, v in row.items()})
    return buffer.getvalue()


def _safe(value: Cell) -> Cell:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
