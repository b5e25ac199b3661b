"""OCPP 2.0.1 messages read into the records 1.6 derives (ADR 0009: one model of views).

Pure readers and folds of 2.0.1 payloads; ``derive.py`` dispatches a 2.0.1 connection's
frames here and applies the results to the charge point's state. Views number a 2.0.1
EVSE as a connector (``connector_id`` = EVSE id, ``evse_id`` set), since an EVSE, like a
1.6 connector, charges one vehicle at a time and carries the transaction.

A transaction's session is a function of its ``TransactionProgress``, a fold of its
events in which every field is chosen by seqNo or timestamp, never by arrival, so
offline-queued, out-of-order and repeated TransactionEvents derive the same session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from chargestream.domain.records import MeterValue, Session
from chargestream.streams.meter import active_power_w, energy_wh, states_of_charge
from chargestream.streams.parse import (
    MAX_CONNECTOR_ID,
    get_dict,
    get_int,
    get_list,
    get_str,
    parse_time,
)
from chargestream.streams.state import TransactionProgress

# Session ids of 2.0.1 transactions: above every 1.6 id (int32, allocated by the store),
# below 2**53 so JSON readers (browsers) keep them exact.
FIRST_ID, END_ID = 2**31, 2**53
MAX_STATION_TRANSACTION_ID = 36  # transactionInfo.transactionId: string[36]
MAX_ID_TOKEN = 36  # idToken.idToken: string[36]
MAX_REASON = 50
STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"
# chargingStates put on the EVSE's status timeline (Idle is none: its status shows it), and
# the statuses they may follow (2.0.1 reports a connector in use as Occupied)
CHARGING_STATES = frozenset({"EVConnected", "Charging", "SuspendedEV", "SuspendedEVSE"})
TIMELINE_FROM = CHARGING_STATES | {"Occupied"}


@dataclass(frozen=True, slots=True)
class Evse:
    """Where a 2.0.1 message happened: the EVSE and its connector (None: not said)."""

    evse_id: int
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A 2.0.1 StatusNotification."""

    evse: Evse
    status: str
    timestamp: Any  # as sent; parsed by the caller, which knows the fallback


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """A 2.0.1 TransactionEvent's fields that sessions need; meter values stay raw."""

    station_transaction_id: str
    event_type: str
    at: datetime
    seq: int | None
    evse: Evse | None
    id_token: str | None
    charging_state: str | None
    stopped_reason: str | None
    meter_values: list[Any]


def transaction_id(charge_point_id: str, station_transaction_id: str) -> int:
    """The session id of a station's transaction: stable, in [FIRST_ID, END_ID)."""
    digest = hashlib.sha256(orjson.dumps([charge_point_id, station_transaction_id])).digest()
    return FIRST_ID + int.from_bytes(digest[:8], "big") % (END_ID - FIRST_ID)


def boot_fields(payload: dict[str, Any]) -> dict[str, str | None]:
    """The registry fields of a BootNotification (1.6 names; 2.0.1 has fewer)."""
    station = get_dict(payload, "chargingStation")
    modem = get_dict(station, "modem")
    return {
        "vendor": get_str(station, "vendorName"),
        "model": get_str(station, "model"),
        "serial_number": get_str(station, "serialNumber"),
        "charge_box_serial_number": None,
        "firmware_version": get_str(station, "firmwareVersion"),
        "iccid": get_str(modem, "iccid"),
        "imsi": get_str(modem, "imsi"),
        "meter_type": None,
        "meter_serial_number": None,
    }


def _bounded_id(payload: dict[str, Any], name: str) -> int | None:
    value = get_int(payload, name)
    return value if value is not None and 0 <= value <= MAX_CONNECTOR_ID else None


def _evse_of(payload: dict[str, Any], evse_field: str, connector_field: str) -> Evse | None:
    evse_id = _bounded_id(payload, evse_field)
    if evse_id is None:
        return None
    return Evse(evse_id, _bounded_id(payload, connector_field))


def status_report(payload: dict[str, Any]) -> StatusReport | None:
    evse = _evse_of(payload, "evseId", "connectorId")
    status = get_str(payload, "connectorStatus")
    if evse is None or status is None:
        return None
    return StatusReport(evse, status[:MAX_REASON], payload.get("timestamp"))


def meter_values_evse(payload: dict[str, Any]) -> int | None:
    """A MeterValues' EVSE (0: the station's main meter)."""
    return _bounded_id(payload, "evseId")


def transaction_event(payload: dict[str, Any], fallback: datetime) -> TransactionEvent | None:
    """A TransactionEvent; None without a usable transaction id or event type."""
    info = get_dict(payload, "transactionInfo")
    station_id = get_str(info, "transactionId")
    event_type = get_str(payload, "eventType")
    if not station_id or len(station_id) > MAX_STATION_TRANSACTION_ID:
        return None
    if event_type not in (STARTED, UPDATED, ENDED):
        return None
    token = get_str(get_dict(payload, "idToken"), "idToken")
    reason = get_str(info, "stoppedReason")
    charging_state = get_str(info, "chargingState")
    return TransactionEvent(
        station_transaction_id=station_id,
        event_type=event_type,
        at=parse_time(payload.get("timestamp"), fallback),
        seq=get_int(payload, "seqNo"),
        evse=_evse_of(get_dict(payload, "evse"), "id", "connectorId"),
        id_token=None if token is None else token[:MAX_ID_TOKEN],
        charging_state=None if charging_state is None else charging_state[:MAX_REASON],
        stopped_reason=None if reason is None else reason[:MAX_REASON],
        meter_values=get_list(payload, "meterValue"),
    )


def _earlier_seq(seq: int | None, than: int | None, held: bool) -> bool:
    """Whether an event of ``seq`` wins over the one of ``than`` (lowest seqNo; none last)."""
    if not held:
        return True
    if seq is None:
        return False
    return than is None or seq < than


def _min_time(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def fold_event(progress: TransactionProgress, event: TransactionEvent) -> TransactionProgress:
    """Fold an event's own fields (not its meter values: ``fold_sample``)."""
    changes: dict[str, Any] = {"first_at": _min_time(progress.first_at, event.at)}
    if event.evse is not None and _earlier_seq(
        event.seq, progress.evse_seq, progress.evse_id is not None
    ):
        changes |= {
            "evse_id": event.evse.evse_id,
            "evse_connector_id": event.evse.connector_id,
            "evse_seq": event.seq,
        }
    if event.event_type == STARTED:
        changes["started_at"] = _min_time(progress.started_at, event.at)
    if event.event_type == ENDED:
        changes |= {
            "ended_at": _min_time(progress.ended_at, event.at),
            "stopped_reason": event.stopped_reason or "Local",  # the spec's default
            "stop_id_token": event.id_token,
        }
    elif event.id_token is not None and _earlier_seq(
        event.seq, progress.id_token_seq, progress.id_token is not None
    ):
        changes |= {"id_token": event.id_token, "id_token_seq": event.seq}
    return replace(progress, **changes)


def fold_sample(
    progress: TransactionProgress, event_type: str, values: list[MeterValue]
) -> TransactionProgress:
    """Fold one sample (the values of one ``meterValue`` element, one timestamp)."""
    if not values:
        return progress
    at = values[0].timestamp
    changes: dict[str, Any] = {}
    wh = energy_wh(values)
    if wh is not None:
        changes |= _start_register(progress, event_type == STARTED, at, wh)
        if progress.last_wh_at is None or (at, wh) > (progress.last_wh_at, progress.last_wh or 0):
            changes |= {"last_wh": wh, "last_wh_at": at}
        if event_type == ENDED:
            changes["ended_wh"] = max(wh, progress.ended_wh or wh)
    power = active_power_w(values)
    if power is not None and (progress.peak_power_w is None or power > progress.peak_power_w):
        changes["peak_power_w"] = power
    socs = states_of_charge(values)
    if socs:
        if progress.soc_first_at is None or at < progress.soc_first_at:
            changes |= {"soc_first": socs[0], "soc_first_at": at}
        if progress.soc_last_at is None or at >= progress.soc_last_at:
            changes |= {"soc_last": socs[-1], "soc_last_at": at}
    return replace(progress, **changes) if changes else progress


def _start_register(
    progress: TransactionProgress, started: bool, at: datetime, wh: float
) -> dict[str, Any]:
    """The Started event's register wins; among the rest (or several) the earliest."""
    held = progress.start_wh_at
    if held is not None and progress.start_wh_started and not started:
        return {}
    earlier = held is None or (at, wh) < (held, progress.start_wh or 0)
    if earlier or (started and not progress.start_wh_started):
        return {"start_wh": wh, "start_wh_at": at, "start_wh_started": started}
    return {}


def session_of(charge_point_id: str, progress: TransactionProgress) -> Session:
    """The session the transaction's events show; energy once it ended."""
    meter_start = None if progress.start_wh is None else round(progress.start_wh)
    meter_stop = None
    if progress.ended_at is not None:
        stop_wh = progress.last_wh if progress.ended_wh is None else progress.ended_wh
        meter_stop = None if stop_wh is None else round(stop_wh)
    energy = None
    if meter_start is not None and meter_stop is not None:
        energy = (meter_stop - meter_start) / 1000
    return Session(
        transaction_id=progress.transaction_id,
        charge_point_id=charge_point_id,
        connector_id=progress.evse_id,
        id_tag=progress.id_token,
        start_time=progress.started_at or progress.first_at,
        meter_start=meter_start,
        stop_time=progress.ended_at,
        meter_stop=meter_stop,
        energy_kwh=energy,
        stop_reason=progress.stopped_reason,
        stop_id_tag=progress.stop_id_token,
        peak_power_w=progress.peak_power_w,
        soc_start=progress.soc_first,
        soc_end=progress.soc_last,
        station_transaction_id=progress.station_transaction_id,
        evse_id=progress.evse_id,
    )
