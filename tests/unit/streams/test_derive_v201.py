"""OCPP 2.0.1 derivation: the same records as 1.6, from schema-valid 2.0.1 frames."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest

from chargestream.domain.frames import EventKind, FrameEvent, LoggedEvent
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    ConnectorStatus,
    MeterValue,
    SecurityEvent,
    Session,
    StatusInterval,
    TransferStatus,
)
from chargestream.streams.derive import ChargePointDerivation, derive
from chargestream.streams.derive_v201 import END_ID, FIRST_ID, transaction_id
from tests.ocpp201_frames import boot, sample, status, transaction_event, valid
from tests.unit.streams.test_derive import CP, SETTINGS, Log, at, final, iso, of_type, run


class Log201(Log):
    """A charge point's log over a 2.0.1 connection."""

    def add(self, kind: EventKind, frame: str, after: float, **meta: Any) -> LoggedEvent:
        return super().add(kind, frame, after, ocpp_version=OcppVersion.V201, **meta)


def tx_event(event_type: str, seq: int, seconds: float, **fields: Any) -> dict[str, Any]:
    return transaction_event(event_type, "tx-1", seq, iso(seconds), **fields)


STARTED = tx_event(
    "Started",
    0,
    10,
    trigger="CablePluggedIn",
    evse=(1, 1),
    id_token="TAG-1",
    charging_state="EVConnected",
    samples=(sample(iso(10), wh=1000, soc=20, context="Transaction.Begin"),),
)
UPDATED = tx_event(
    "Updated",
    1,
    20,
    trigger="ChargingStateChanged",
    charging_state="Charging",
    samples=(sample(iso(20), wh=4000, watts=11000, soc=40),),
)
UPDATED_LATER = tx_event("Updated", 2, 30, samples=(sample(iso(30), wh=6500, watts=7000, soc=55),))
ENDED = tx_event(
    "Ended",
    3,
    40,
    trigger="EVCommunicationLost",
    id_token="TAG-1",
    charging_state="Idle",
    stopped_reason="EVDisconnected",
    samples=(sample(iso(40), wh=8000, context="Transaction.End"),),
)
EXPECTED = Session(
    transaction_id=transaction_id(CP, "tx-1"),
    charge_point_id=CP,
    connector_id=1,
    id_tag="TAG-1",
    start_time=at(10),
    meter_start=1000,
    stop_time=at(40),
    meter_stop=8000,
    energy_kwh=7.0,
    stop_reason="EVDisconnected",
    stop_id_tag="TAG-1",
    peak_power_w=11000.0,
    soc_start=20.0,
    soc_end=55.0,
    station_transaction_id="tx-1",
    evse_id=1,
)


def booted() -> Log201:
    log = Log201()
    log.connect()
    log.exchange("BootNotification", boot(), {"status": "Accepted", "interval": 300})
    return log


def session_of(events: list[LoggedEvent]) -> Session:
    sessions = of_type(run(events)[1], Session)
    assert sessions, "no session derived"
    return sessions[-1]


def test_boot_notification_fills_the_registry_and_its_version() -> None:
    log = Log201()
    log.connect()
    payload = boot(
        serialNumber="S-9",
        firmwareVersion="6.1.0",
        modem={"iccid": "8949", "imsi": "2620"},
    )
    log.exchange("BootNotification", payload, {"status": "Accepted", "interval": 300})

    state, _ = run(log.events)
    assert state.registry == ChargePointState(
        charge_point_id=CP,
        connected=True,
        last_seen=at(2),
        connected_since=at(1),
        node="node-a",
        vendor="Alfen",
        model="Eve",
        serial_number="S-9",
        firmware_version="6.1.0",
        iccid="8949",
        imsi="2620",
        last_boot_at=at(2),
        registration_status="Accepted",
        ocpp_version=OcppVersion.V201,
    )


def test_status_is_kept_per_evse_with_its_connector() -> None:
    log = booted()
    log.call("StatusNotification", status(1, 1, "Available", iso(5)))
    log.call("StatusNotification", status(2, 1, "Occupied", iso(6)))
    log.call("StatusNotification", status(2, 1, "Faulted", iso(7)))

    state, records = run(log.events)
    assert state.registry.connectors == (
        ConnectorStatus(1, "Available", "NoError", at(5), evse_id=1, evse_connector_id=1),
        ConnectorStatus(2, "Faulted", "NoError", at(7), evse_id=2, evse_connector_id=1),
    )
    opened = [(i.connector_id, i.evse_id, i.status) for i in of_type(records, StatusInterval)]
    assert opened[0] == (1, 1, "Available")
    assert (2, 2, "Faulted") in opened
    assert {alert.connector_id for alert in state.alerts} == {2}  # faulted, per EVSE


def test_a_transaction_becomes_one_session_with_energy_from_the_ended_register() -> None:
    log = booted()
    for payload in (STARTED, UPDATED, UPDATED_LATER, ENDED):
        log.call("TransactionEvent", payload)

    state, records = run(log.events)
    assert of_type(records, Session)[-1] == EXPECTED
    assert FIRST_ID <= EXPECTED.transaction_id < END_ID
    assert not state.sessions and [s.transaction_id for s in state.closed] == [
        EXPECTED.transaction_id
    ]
    series = {(v.timestamp, v.measurand): v for v in of_type(records, MeterValue)}
    assert series[(at(20), "Power.Active.Import")].value == 11000
    assert series[(at(40), "Energy.Active.Import.Register")].value == pytest.approx(8000)
    assert {v.transaction_id for v in series.values()} == {EXPECTED.transaction_id}
    assert {v.connector_id for v in series.values()} == {1}


def test_without_an_ended_register_the_last_sample_gives_the_energy() -> None:
    ended = tx_event("Ended", 3, 40, stopped_reason="Local")
    log = booted()
    for payload in (STARTED, UPDATED_LATER, UPDATED, ended):
        log.call("TransactionEvent", payload)

    session = session_of(log.events)
    assert (session.meter_stop, session.energy_kwh) == (6500, 5.5)
    assert session.stop_reason == "Local" and session.stop_id_tag is None


def test_an_open_session_has_no_energy_yet() -> None:
    log = booted()
    log.call("TransactionEvent", STARTED)
    log.call("TransactionEvent", UPDATED)

    state, records = run(log.events)
    (session,) = state.sessions  # emitted again at most once a minute, as 1.6 (ADR 0006)
    assert of_type(records, Session)[-1] == replace(session, peak_power_w=None, soc_end=20.0)
    assert session.active and session.meter_stop is None and session.energy_kwh is None
    assert (session.meter_start, session.peak_power_w, session.soc_end) == (1000, 11000.0, 40.0)


def _offline(payload: dict[str, Any]) -> dict[str, Any]:
    return valid("TransactionEvent", {**payload, "offline": True})


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations((STARTED, UPDATED, UPDATED_LATER, ENDED))),
)
def test_any_order_of_events_derives_the_same_session(order: tuple[dict[str, Any], ...]) -> None:
    log = booted()
    for payload in order:
        log.call("TransactionEvent", payload)

    assert session_of(log.events) == EXPECTED


def test_offline_queued_and_repeated_events_derive_the_same_session() -> None:
    log = booted()
    log.disconnect()
    log.connect(after=600)  # the events of the outage come after reconnecting, in the past
    for payload in (STARTED, UPDATED, UPDATED, UPDATED_LATER, ENDED):
        log.call("TransactionEvent", _offline(payload))
    log.call("TransactionEvent", _offline(UPDATED))  # sent again after the end
    log.call("TransactionEvent", _offline(ENDED))

    assert session_of(log.events) == EXPECTED


def test_a_transaction_ended_and_forgotten_is_not_reopened() -> None:
    log = booted()
    for payload in (STARTED, ENDED):
        log.call("TransactionEvent", payload)
    for number in range(24):  # enough later transactions to forget the first
        log.call("TransactionEvent", transaction_event("Ended", f"other-{number}", 0, iso(50)))
    log.call("TransactionEvent", UPDATED)

    records = run(log.events[-2:], state=run(log.events[:-2])[0])[1]
    assert not of_type(records, Session)


def test_charging_state_is_the_evse_timeline_while_occupied() -> None:
    log = booted()
    log.call("StatusNotification", status(1, 1, "Occupied", iso(9)))
    for payload in (STARTED, UPDATED, ENDED):
        log.call("TransactionEvent", payload)
    log.call("StatusNotification", status(1, 1, "Available", iso(41)))
    queued = tx_event("Updated", 9, 15, charging_state="SuspendedEV")
    log.call("TransactionEvent", queued)  # older than the Available: not on the timeline

    state, records = run(log.events)
    timeline = [
        (i.start, i.status, i.evse_id)
        for i in final(records).values()
        if isinstance(i, StatusInterval)
    ]
    assert sorted(timeline) == [
        (at(9), "Occupied", 1),
        (at(10), "EVConnected", 1),
        (at(20), "Charging", 1),
        (at(41), "Available", 1),
    ]
    assert state.registry.connectors[0].status == "Available"


def test_meter_values_of_an_evse_outside_transactions() -> None:
    log = booted()
    payload = valid("MeterValues", {"evseId": 0, "meterValue": [sample(iso(5), wh=123456)]})
    log.call("MeterValues", payload)

    (value,) = of_type(run(log.events)[1], MeterValue)
    assert (value.connector_id, value.transaction_id, value.unit) == (0, None, "Wh")
    assert value.value == pytest.approx(123456)


def test_security_firmware_and_log_statuses() -> None:
    log = booted()
    log.call(
        "SecurityEventNotification",
        valid(
            "SecurityEventNotification",
            {"type": "TamperDetectionActivated", "timestamp": iso(3), "techInfo": "lid"},
        ),
    )
    log.call(
        "FirmwareStatusNotification",
        valid("FirmwareStatusNotification", {"status": "Installed", "requestId": 7}),
    )
    log.call(
        "LogStatusNotification",
        valid("LogStatusNotification", {"status": "Uploaded", "requestId": 8}),
    )

    records = run(log.events)[1]
    (event,) = of_type(records, SecurityEvent)
    assert (event.event_type, event.tech_info, event.critical) == (
        "TamperDetectionActivated",
        "lid",
        True,
    )
    statuses = {(s.transfer, s.status, s.request_id) for s in of_type(records, TransferStatus)}
    assert statuses == {("firmware", "Installed", 7), ("log", "Uploaded", 8)}


def test_an_unanswered_transaction_event_derives_nothing() -> None:
    log = booted()
    log.unanswered("TransactionEvent", STARTED)

    assert not of_type(run(log.events)[1], Session)


def test_the_same_payload_means_its_own_protocol() -> None:
    """A 1.6 connection's StatusNotification is 1.6 even with 2.0.1 fields, and back."""
    log16 = Log()
    log16.connect()
    log16.call("StatusNotification", status(1, 1, "Occupied", iso(5)))  # no 1.6 status field
    log201 = booted()
    log201.call(
        "StatusNotification", {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}
    )

    assert not of_type(run(log16.events)[1], StatusInterval)
    assert not of_type(run(log201.events)[1], StatusInterval)


def test_a_mixed_fleet_in_one_log_and_its_replay_from_a_saved_state() -> None:
    """1.6 and 2.0.1 charge points interleaved; states saved as JSON midway give the same."""
    log16, log201 = Log(), booted()
    log16.connect()
    log16.exchange(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-9", "meterStart": 0, "timestamp": iso(3)},
        {"transactionId": 42, "idTagInfo": {"status": "Accepted"}},
    )
    for payload in (STARTED, UPDATED, ENDED):
        log201.call("TransactionEvent", payload)
    cp201 = [LoggedEvent(e.position, _as(e.event, "CP-201")) for e in log201.events]
    mixed = sorted([*log16.events, *cp201], key=lambda e: (e.event.received_us, e.position))

    whole = _derive_fleet(mixed, saved_midway=False)
    resumed = _derive_fleet(mixed, saved_midway=True)
    assert whole == resumed
    sessions = {s.charge_point_id: s for s in whole if isinstance(s, Session)}
    assert sessions[CP].transaction_id == 42 and sessions[CP].station_transaction_id is None
    assert sessions["CP-201"].station_transaction_id == "tx-1"
    assert sessions["CP-201"].transaction_id == transaction_id("CP-201", "tx-1") >= FIRST_ID


def _as(event: FrameEvent, charge_point_id: str) -> FrameEvent:
    return replace(event, charge_point_id=charge_point_id)


def _derive_fleet(events: list[LoggedEvent], *, saved_midway: bool) -> list[Any]:
    states: dict[str, ChargePointDerivation] = {}
    records: list[Any] = []
    for index, logged in enumerate(events):
        if saved_midway and index == len(events) // 2:  # as a restarted processor reads them
            states = {cp: ChargePointDerivation.from_json(s.to_json()) for cp, s in states.items()}
        cp = logged.event.charge_point_id
        states[cp], produced = derive(states.get(cp), logged, SETTINGS)
        records.extend(produced)
    return records


def test_heartbeats_disconnects_and_the_version_of_the_last_connection() -> None:
    log = booted()
    log.call("StatusNotification", status(1, 1, "Available", iso(3)))
    log.call("Heartbeat", valid("Heartbeat", {}), after=100)
    assert run(log.events)[0].registry.last_seen == at(103)
    log.disconnect()

    state, records = run(log.events)
    offline = [i for i in of_type(records, StatusInterval) if i.status == "Offline"]
    assert [(i.connector_id, i.evse_id) for i in offline] == [(1, 1)]

    log16 = Log()  # the same charge point back with 1.6 firmware
    log16.events = [LoggedEvent(len(log.events) + 1, _connected_16())]
    state, _ = run(log16.events, state=state)
    assert state.registry.ocpp_version is OcppVersion.V16


def _connected_16() -> FrameEvent:
    return FrameEvent(
        CP, EventKind.CONNECTED, "{}", "node-a", "conn-9", 0, round(at(200).timestamp() * 10**6)
    )


def test_a_stations_transaction_id_maps_to_a_fixed_session_id() -> None:
    """Stored sessions are keyed by it: the mapping may never change."""
    assert transaction_id("CP-1", "tx-1") == 1_653_142_547_969_519
    assert transaction_id("CP-2", "tx-1") != transaction_id("CP-1", "tx-1")
    assert all(FIRST_ID <= transaction_id("CP-1", f"tx-{n}") < END_ID for n in range(1000))
