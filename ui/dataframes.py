"""Store records and API answers as pandas DataFrames for display and CSV export.

Pure functions (no Streamlit), one per listing. Times stay timezone-aware
UTC; the pages choose the display time zone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from chargestream.domain.meter import base_value
from chargestream.domain.records import (
    Alert,
    AlertRule,
    ChargePointState,
    CommandRecord,
    IdTag,
    MeterValue,
    Notification,
    NotificationChannel,
    Registration,
    Session,
)
from chargestream.streams.progress import Progress, progress

# connector statuses during which a transaction normally runs
SESSION_STATUSES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})

FLEET_COLUMNS = [
    "charge_point_id",
    "name",
    "state",
    "protocol",
    "last_seen",
    "connectors",
    "vendor",
    "model",
    "firmware",
    "serial",
    "location",
    "connected",
    "statuses",
]

SESSION_COLUMNS = (
    "transaction_id",
    "station_transaction_id",
    "charge_point_id",
    "connector_id",
    "id_tag",
    "start_time",
    "stop_time",
    "duration_min",
    "energy_kwh",
    "power_kw",
    "stop_reason",
    "peak_power_kw",
    "soc_start",
    "soc_end",
)


def connector_tag(connector_id: int, status: str) -> str:
    return f"{'CP' if connector_id == 0 else connector_id} · {status}"


def protocol(state: ChargePointState | None) -> str | None:
    """ "OCPP 2.0.1": the protocol of the charge point's last connection."""
    version = state.ocpp_version if state else None
    return f"OCPP {version.label}" if version else None


def fleet_frame(
    registrations: Iterable[Registration], states: Iterable[ChargePointState]
) -> pd.DataFrame:
    """One row per charge point that is registered or was ever seen, ordered by id.

    ``connectors`` holds display tags ("1 · Charging"); ``statuses`` the statuses
    of connectors 1..n, or "Offline" for each while the charge point is offline.
    """
    by_id = {r.charge_point_id: r for r in registrations}
    state_by_id = {s.charge_point_id: s for s in states}
    rows = []
    for cp in sorted(by_id.keys() | state_by_id.keys()):
        registration, state = by_id.get(cp), state_by_id.get(cp)
        connected = bool(state and state.connected)
        connectors = state.connectors if state else ()
        rows.append(
            {
                "charge_point_id": cp,
                "name": registration.display_name if registration else None,
                "state": "Online" if connected else "Offline" if state else "Never connected",
                "protocol": protocol(state),
                "last_seen": state.last_seen if state else None,
                "connectors": [connector_tag(c.connector_id, c.status) for c in connectors],
                "vendor": state.vendor if state else None,
                "model": state.model if state else None,
                "firmware": state.firmware_version if state else None,
                "serial": (state.charge_box_serial_number or state.serial_number)
                if state
                else None,
                "location": registration.location if registration else None,
                "connected": connected,
                "statuses": [
                    c.status if connected else "Offline" for c in connectors if c.connector_id
                ],
            }
        )
    frame = pd.DataFrame(rows, columns=FLEET_COLUMNS)
    frame["last_seen"] = pd.to_datetime(frame["last_seen"], utc=True)
    return frame


def status_counts(fleet: pd.DataFrame) -> pd.DataFrame:
    """Connectors (1..n) per status; offline charge points count as Offline."""
    statuses = fleet["statuses"].explode().dropna()
    counts = statuses.value_counts().rename_axis("status").reset_index(name="count")
    return counts.astype({"count": int})


def sessions_frame(
    sessions: Sequence[Session],
    live: Mapping[int, Progress] | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """One row per session; a running one shows its energy and power so far from ``live``
    (streams.progress), an empty stop reason and its duration until ``now``."""
    now = now or datetime.now(UTC)
    rows = []
    for s in sessions:
        so_far = (live or {}).get(s.transaction_id) or progress(s, (), now)
        rows.append(
            {
                "transaction_id": s.transaction_id,
                "station_transaction_id": s.station_transaction_id,
                "charge_point_id": s.charge_point_id,
                "connector_id": s.connector_id,
                "id_tag": s.id_tag,
                "start_time": s.start_time,
                "stop_time": s.stop_time,
                "duration_min": _rounded(so_far.duration_s, 60, 1),
                "energy_kwh": _rounded(so_far.energy_kwh, 1, 3),
                "power_kw": _rounded(so_far.power_w, 1000, 2),
                "stop_reason": s.stop_reason,
                "peak_power_kw": _rounded(s.peak_power_w, 1000, 2),
                "soc_start": s.soc_start,
                "soc_end": s.soc_end,
            }
        )
    return _with_times(
        pd.DataFrame(rows, columns=list(SESSION_COLUMNS)).astype({"energy_kwh": float}),
        "start_time",
        "stop_time",
    )


def _rounded(value: float | None, per: float, digits: int) -> float | None:
    """``value / per`` rounded (CSV and tables show no float noise); None stays None."""
    return None if value is None else round(value / per, digits)


def csv(frame: pd.DataFrame) -> str:
    """CSV with ISO 8601 times (UTC)."""
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def sessions_csv(sessions: Sequence[Session], live: Mapping[int, Progress]) -> str:
    return csv(sessions_frame(sessions, live))


def session_time(session: Session) -> datetime | None:
    """The time the store orders sessions by (the ``before`` cursor)."""
    return session.start_time or session.stop_time


def meter_frame(values: Sequence[MeterValue]) -> pd.DataFrame:
    """Sampled values in base units (W, Wh, ...), one series per measurand and phase."""
    rows = []
    for value in values:
        number, unit = base_value(value)
        series = value.measurand + (f" {value.phase}" if value.phase else "")
        if value.location and value.location != "Outlet":
            series += f" ({value.location})"
        rows.append(
            {
                "timestamp": value.timestamp,
                "measurand": value.measurand,
                "phase": value.phase or "",
                "location": value.location or "",
                "context": value.context or "",
                "series": series,
                "value": number,
                "unit": unit,
            }
        )
    columns = ["timestamp", "measurand", "phase", "location", "context", "series", "value", "unit"]
    return _with_times(pd.DataFrame(rows, columns=columns), "timestamp")


def meter_summary(values: pd.DataFrame) -> pd.DataFrame:
    """Per series: unit, samples, min, mean, max and the last value."""
    if values.empty:
        return pd.DataFrame(columns=["series", "unit", "samples", "min", "mean", "max", "last"])
    grouped = values.sort_values("timestamp").groupby(["series", "unit"])["value"]
    return grouped.agg(
        samples="count", min="min", mean="mean", max="max", last="last"
    ).reset_index()


def alerts_frame(alerts: Sequence[Alert]) -> pd.DataFrame:
    rows = [
        {
            "alert_id": a.alert_id,
            "severity": a.severity,
            "kind": a.kind.value,
            "charge_point_id": a.charge_point_id,
            "connector_id": a.connector_id,
            "message": a.message,
            "opened_at": a.opened_at,
            "closed_at": a.closed_at,
            "acknowledged_by": a.acknowledged_by,
            "acknowledged_at": a.acknowledged_at,
        }
        for a in alerts
    ]
    columns = [
        "alert_id",
        "severity",
        "kind",
        "charge_point_id",
        "connector_id",
        "message",
        "opened_at",
        "closed_at",
        "acknowledged_by",
        "acknowledged_at",
    ]
    return _with_times(
        pd.DataFrame(rows, columns=columns), "opened_at", "closed_at", "acknowledged_at"
    )


def rules_frame(rules: Sequence[AlertRule]) -> pd.DataFrame:
    columns = ["rule_id", "measurand", "operator", "threshold", "severity", "enabled"]
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rules], columns=columns)


def channel_rows(channels: Sequence[NotificationChannel]) -> list[dict[str, Any]]:
    return [
        {
            "channel_id": c.channel_id,
            "kind": c.kind.value,
            "target": c.target,
            "alerts": c.alert_kind.value if c.alert_kind else "every kind",
            "rule_id": c.rule_id or "",
            "cooldown_min": c.cooldown / 60,
            "signed": c.secret is not None,
            "enabled": c.enabled,
            "digest": c.digest,
        }
        for c in channels
    ]


def notifications_frame(entries: Sequence[Notification]) -> pd.DataFrame:
    columns = [
        "created_at",
        "status",
        "channel_id",
        "transition",
        "charge_point_id",
        "alert_id",
        "attempts",
        "last_error",
        "delivered_at",
    ]
    rows = [{c: getattr(n, c) for c in columns} for n in entries]
    frame = pd.DataFrame(rows, columns=columns)
    frame["status"] = frame["status"].map(str)
    return frame


def id_tags_frame(tags: Sequence[IdTag], now: datetime | None = None) -> pd.DataFrame:
    """Id tags with the status a charge point would be answered (expired tags: Expired)."""
    now = now or datetime.now(UTC)
    rows = [
        {
            "id_tag": t.id_tag,
            "status": t.status.value,
            "answered": "Expired"
            if t.status == "Accepted" and t.expiry_date and t.expiry_date <= now
            else t.status.value,
            "expiry_date": t.expiry_date,
            "parent_id_tag": t.parent_id_tag,
        }
        for t in tags
    ]
    columns = ["id_tag", "status", "answered", "expiry_date", "parent_id_tag"]
    return _with_times(pd.DataFrame(rows, columns=columns), "expiry_date")


def commands_frame(commands: Sequence[CommandRecord]) -> pd.DataFrame:
    rows = [
        {
            "requested_at": c.requested_at,
            "charge_point_id": c.charge_point_id,
            "action": c.action,
            "outcome": c.outcome.value if c.outcome else "in flight",
            "answer": _answer(c.response, c.error),
            "payload": json.dumps(c.payload, separators=(", ", ": ")),
            "latency_ms": (c.completed_at - c.requested_at).total_seconds() * 1000
            if c.completed_at
            else None,
            # who sent it, where the store keeps it (older records and stores: None)
            "sent_by": getattr(c, "sent_by", None),
        }
        for c in commands
    ]
    columns = [
        "requested_at",
        "charge_point_id",
        "action",
        "outcome",
        "answer",
        "payload",
        "latency_ms",
        "sent_by",
    ]
    return _with_times(pd.DataFrame(rows, columns=columns), "requested_at")


def _answer(response: dict[str, Any] | None, error: str | None) -> str:
    if error:
        return error
    if response is None:
        return ""
    if set(response) == {"status"}:
        return str(response["status"])
    return json.dumps(response, separators=(", ", ": "))


_MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}


def frames_frame(frames: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Frame events from the API (newest first) with a readable type and summary."""
    rows = []
    for f in frames:
        kind = f.get("kind")
        message_type = _MESSAGE_TYPES.get(f.get("message_type") or 0)
        rows.append(
            {
                "received_at": f.get("received_at"),
                "direction": {"in": "CP → CSMS", "out": "CSMS → CP"}.get(f.get("direction") or ""),
                "type": message_type or kind,
                "action": f.get("action") or "",
                "message_id": f.get("message_id") or "",
                "frame": f.get("frame", ""),
            }
        )
    columns = ["received_at", "direction", "type", "action", "message_id", "frame"]
    return _with_times(pd.DataFrame(rows, columns=columns), "received_at")


def frame_payload(frame: str) -> Any:
    """The payload of an OCPP-J frame (or the whole event for connects), parsed if JSON."""
    try:
        message = json.loads(frame)
    except ValueError:
        return frame
    if isinstance(message, list) and message:
        kind = message[0]
        if kind == 2 and len(message) >= 4:
            return message[3]
        if kind == 3 and len(message) >= 3:
            return message[2]
        if kind == 4 and len(message) >= 5:
            return {"errorCode": message[2], "errorDescription": message[3], "details": message[4]}
    return message


def _with_times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame
