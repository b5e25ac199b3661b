"""Derivation of records from frame events (streams.derive)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
import pytest

from chargestream.domain.frames import Direction, EventKind, FrameEvent, LoggedEvent, MessageType
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    Alert,
    AlertKind,
    AlertRule,
    ChargePointState,
    ConnectorStatus,
    DerivedRecord,
    MeterValue,
    Session,
    StatusInterval,
)
from chargestream.streams.derive import (
    ChargePointDerivation,
    DerivationSettings,
    derive,
    offline_due,
    tick,
)
from chargestream.streams.parse import MAX_CONNECTOR_ID

CP = "CP-1"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SETTINGS = DerivationSettings()
R = TypeVar("R")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def iso(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


class Log:
    """One charge point's event log, written the way the gateway wrote it before one event
    per exchange (ADR 0010; test_derive_exchanges folds it into exchanges)."""

    def __init__(self) -> None:
        self.events: list[LoggedEvent] = []
        self.seconds = 0.0
        self.connection = 0
        self.sequence = 0
        self.ids = itertools.count(1)

    def add(self, kind: EventKind, frame: str, after: float, **meta: Any) -> LoggedEvent:
        self.seconds += after
        event = FrameEvent(
            charge_point_id=CP,
            kind=kind,
            frame=frame,
            node="node-a",
            connection_id=f"conn-{self.connection}",
            sequence=self.sequence,
            received_us=round(at(self.seconds).timestamp() * 1_000_000),
            **meta,
        )
        self.sequence += 1
        logged = LoggedEvent(len(self.events) + 1, event)
        self.events.append(logged)
        return logged

    def connect(self, after: float = 1) -> None:
        self.connection += 1
        self.sequence = 0
        self.add(EventKind.CONNECTED, '{"remote": "10.0.0.7"}', after)

    def disconnect(self, after: float = 1, connection: int | None = None) -> None:
        logged = self.add(EventKind.DISCONNECTED, '{"code": 1006}', after)
        if connection is not None:
            event = replace(logged.event, connection_id=f"conn-{connection}")
            self.events[-1] = replace(logged, event=event)

    def call(
        self, action: str, payload: dict[str, Any], after: float = 1, *, answered: bool = True
    ) -> str:
        """A CALL from the charge point and, as the gateway logs it, the CSMS's empty
        CALLRESULT (unless not ``answered``); returns its message id."""
        message_id = self.unanswered(action, payload, after)
        if answered:
            self.result(message_id, {})
        return message_id

    def unanswered(self, action: str, payload: dict[str, Any], after: float = 1) -> str:
        """A CALL from the charge point without an answer in the log; its message id."""
        message_id = str(next(self.ids))
        frame = orjson.dumps([2, message_id, action, payload]).decode()
        self.add(
            EventKind.FRAME,
            frame,
            after,
            direction=Direction.IN,
            message_type=MessageType.CALL,
            message_id=message_id,
            action=action,
        )
        return message_id

    def result(self, message_id: str, payload: dict[str, Any], after: float = 0) -> None:
        """The CSMS's CALLRESULT to a charge point CALL."""
        frame = orjson.dumps([3, message_id, payload]).decode()
        self.add(
            EventKind.FRAME,
            frame,
            after,
            direction=Direction.OUT,
            message_type=MessageType.CALLRESULT,
            message_id=message_id,
        )

    def exchange(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any], after: float = 1
    ) -> None:
        self.result(self.unanswered(action, payload, after), answer)

    def error(self, message_id: str, code: str, after: float = 0) -> None:
        """The CSMS's CALLERROR to a charge point CALL."""
        frame = orjson.dumps([4, message_id, code, "refused", {}]).decode()
        self.add(
            EventKind.FRAME,
            frame,
            after,
            direction=Direction.OUT,
            message_type=MessageType.CALLERROR,
            message_id=message_id,
        )

    def raw(self, frame: str, direction: Direction = Direction.IN, after: float = 1) -> None:
        self.add(EventKind.FRAME, frame, after, direction=direction)


def run(
    events: list[LoggedEvent],
    settings: DerivationSettings = SETTINGS,
    state: ChargePointDerivation | None = None,
) -> tuple[ChargePointDerivation, list[DerivedRecord]]:
    records: list[DerivedRecord] = []
    for logged in events:
        state, produced = derive(state, logged, settings)
        records.extend(produced)
    assert state is not None
    return state, records


def of_type(records: list[DerivedRecord], kind: type[R]) -> list[R]:
    return [record for record in records if isinstance(record, kind)]


def final(records: list[DerivedRecord]) -> dict[Any, DerivedRecord]:
    """What the store holds after upserting ``records`` in order, by natural key."""
    return {(type(r).__name__, tuple(getattr(r, f) for f in r.KEY)): r for r in records}


def status(
    connector: int,
    state: str,
    seconds: float | None = None,
    error_code: str = "NoError",
    **extra: Any,
) -> dict[str, Any]:
    payload = {"connectorId": connector, "status": state, "errorCode": error_code, **extra}
    if seconds is not None:
        payload["timestamp"] = iso(seconds)
    return payload


# The measurands a SIMA wallbox reports, one sample per minute.
def sima_sample(seconds: float, energy_wh: int, power_kw: float, soc: int) -> dict[str, Any]:
    return {
        "timestamp": iso(seconds),
        "sampledValue": [
            {"value": "15.9", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
            {"value": str(energy_wh), "context": "Sample.Periodic", "unit": "Wh"},
            {"value": f"{power_kw}", "measurand": "Power.Active.Import", "unit": "kW"},
            {"value": str(soc), "measurand": "SoC", "location": "EV"},
            {"value": "229.8", "measurand": "Voltage", "phase": "L1-N"},
            {"value": "16", "measurand": "Current.Offered"},
            {"value": "11000", "measurand": "Power.Offered", "unit": "W"},
            {"value": "36.5", "measurand": "Temperature", "location": "Body"},
        ],
    }


BOOT = {
    "chargePointVendor": "SIMA",
    "chargePointModel": "Wallbox 11",
    "chargePointSerialNumber": "S-1",
    "chargeBoxSerialNumber": "B-1",
    "firmwareVersion": "2.4.1",
    "iccid": "8949",
    "imsi": "2620",
    "meterType": "EM340",
    "meterSerialNumber": "M-1",
}


def session_log() -> Log:
    log = Log()
    log.connect()
    log.exchange(
        "BootNotification", BOOT, {"status": "Accepted", "currentTime": iso(2), "interval": 300}
    )
    log.exchange("StatusNotification", status(0, "Available", 2), {})
    log.exchange("StatusNotification", status(1, "Available", 2), {})
    log.exchange("Authorize", {"idTag": "TAG-1"}, {"idTagInfo": {"status": "Accepted"}})
    log.exchange("StatusNotification", status(1, "Preparing", 10), {})
    log.exchange(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": iso(12)},
        {"transactionId": 42, "idTagInfo": {"status": "Accepted"}},
    )
    log.exchange("StatusNotification", status(1, "Charging", 13), {})
    for minute, (energy, power, soc) in enumerate([(1100, 10.9, 20), (1290, 11.04, 23)], 1):
        log.exchange(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 42,
                "meterValue": [sima_sample(12 + 60 * minute, energy, power, soc)],
            },
            {},
            after=60,
        )
    log.exchange(
        "StopTransaction",
        {
            "transactionId": 42,
            "meterStop": 15432,
            "timestamp": iso(200),
            "idTag": "TAG-1",
            "transactionData": [sima_sample(199, 15432, 7.5, 80)],
        },
        {"idTagInfo": {"status": "Accepted"}},
        after=70,
    )
    log.exchange("StatusNotification", status(1, "Finishing", 201), {})
    return log


# ----------------------------------------------------------------------------- sessions


def test_start_transaction_to_stop_transaction_derives_the_session() -> None:
    state, records = run(session_log().events)

    sessions = of_type(records, Session)
    assert sessions[-1] == Session(
        transaction_id=42,
        charge_point_id=CP,
        connector_id=1,
        id_tag="TAG-1",
        start_time=at(12),
        meter_start=1000,
        stop_time=at(200),
        meter_stop=15432,
        energy_kwh=14.432,
        stop_reason="Local",
        stop_id_tag="TAG-1",
        peak_power_w=11040.0,
        soc_start=20.0,
        soc_end=80.0,
    )
    assert state.sessions == ()


def test_start_transaction_result_opens_session_and_meter_values_update_it() -> None:
    _, records = run(session_log().events)

    sessions = of_type(records, Session)
    assert sessions[0] == Session(
        42, CP, connector_id=1, id_tag="TAG-1", start_time=at(12), meter_start=1000
    )
    assert [(s.peak_power_w, s.soc_start, s.soc_end) for s in sessions[1:3]] == [
        (10900.0, 20.0, 20.0),
        (11040.0, 20.0, 23.0),
    ]
    assert all(s.active for s in sessions[:3])


def test_meter_values_sampled_values_are_normalized() -> None:
    _, records = run(session_log().events)

    first = [m for m in of_type(records, MeterValue) if m.timestamp == at(72)]
    common = {
        "charge_point_id": CP,
        "connector_id": 1,
        "timestamp": at(72),
        "transaction_id": 42,
        "location": "Outlet",
        "context": "Sample.Periodic",
    }
    assert first == [
        MeterValue(**common, measurand="Current.Import", value=15.9, unit="A", phase="L1"),
        MeterValue(**common, measurand="Energy.Active.Import.Register", value=1100.0, unit="Wh"),
        MeterValue(**common, measurand="Power.Active.Import", value=10.9, unit="kW"),
        MeterValue(**{**common, "location": "EV"}, measurand="SoC", value=20.0, unit="Percent"),
        MeterValue(**common, measurand="Voltage", value=229.8, unit="V", phase="L1-N"),
        MeterValue(**common, measurand="Current.Offered", value=16.0, unit="A"),
        MeterValue(**common, measurand="Power.Offered", value=11000.0, unit="W"),
        MeterValue(
            **{**common, "location": "Body"}, measurand="Temperature", value=36.5, unit="Celsius"
        ),
    ]
    assert all(type(m.value) is float for m in of_type(records, MeterValue))


def test_stop_transaction_transaction_data_becomes_meter_values() -> None:
    _, records = run(session_log().events)

    stop_values = [m for m in of_type(records, MeterValue) if m.timestamp == at(199)]
    assert len(stop_values) == 8
    assert {(m.connector_id, m.transaction_id) for m in stop_values} == {(1, 42)}


def test_meter_values_units_default_per_measurand_and_skip_non_numbers() -> None:
    log = Log()
    log.connect()
    samples = [
        {"value": "7"},
        {"value": "1.5", "measurand": "Energy.Reactive.Import.Register"},
        {"value": "3", "measurand": "Power.Reactive.Import"},
        {"value": "50", "measurand": "Frequency"},
        {"value": "40", "measurand": "Temperature", "unit": "Celcius"},
        {"value": "0.5", "measurand": "Energy.Active.Import.Interval", "unit": "kWh"},
        {"value": "n/a", "measurand": "Voltage"},
        {"value": "NaN", "measurand": "Voltage"},
        {"value": "", "measurand": "Voltage"},
        {"value": "3AF2", "format": "SignedData"},
        {"measurand": "Voltage"},
        "not an object",
    ]
    log.call("MeterValues", {"connectorId": 0, "meterValue": [{"sampledValue": samples}]})

    values = of_type(run(log.events)[1], MeterValue)
    assert [(m.measurand, m.value, m.unit) for m in values] == [
        ("Energy.Active.Import.Register", 7.0, "Wh"),
        ("Energy.Reactive.Import.Register", 1.5, "varh"),
        ("Power.Reactive.Import", 3.0, "var"),
        ("Frequency", 50.0, "Hertz"),
        ("Temperature", 40.0, "Celsius"),
        ("Energy.Active.Import.Interval", 0.5, "kWh"),
    ]
    # no timestamp on the element: the event time; no transaction: None
    assert {(m.timestamp, m.transaction_id, m.connector_id) for m in values} == {(at(2), None, 0)}


def test_meter_values_peak_power_sums_phases_and_converts_kw() -> None:
    log = Log()
    log.connect()
    log.exchange(
        "StartTransaction",
        {"connectorId": 2, "idTag": "T", "meterStart": 0, "timestamp": iso(1)},
        {"transactionId": 7, "idTagInfo": {"status": "Accepted"}},
    )
    phases = [
        {"value": "3.5", "measurand": "Power.Active.Import", "phase": p, "unit": "kW"}
        for p in ("L1", "L2", "L3")
    ]
    log.call(
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": 7,
            "meterValue": [{"timestamp": iso(5), "sampledValue": phases}],
        },
    )

    every_time = DerivationSettings(session_refresh=0)
    assert of_type(run(log.events, every_time)[1], Session)[-1].peak_power_w == 10500.0


def test_open_session_updates_are_emitted_at_most_once_per_session_refresh() -> None:
    log = Log()
    log.connect()
    log.exchange(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(1)},
        {"transactionId": 7, "idTagInfo": {"status": "Accepted"}},
    )
    for n in range(1, 13):  # every 10 s, the state of charge rising
        log.exchange(
            "MeterValues",
            {"connectorId": 1, "transactionId": 7, "meterValue": [sima_sample(1, 10, 7, n)]},
            {},
            after=10,
        )
    log.exchange("StopTransaction", {"transactionId": 7, "meterStop": 900}, {}, after=10)

    # derived in two halves, the state saved as JSON between them: the same records
    halves = len(log.events) // 2
    state, first = run(log.events[:halves], DerivationSettings(session_refresh=60))
    saved = ChargePointDerivation.from_json(state.to_json())
    _, second = run(log.events[halves:], DerivationSettings(session_refresh=60), saved)
    _, whole = run(log.events, DerivationSettings(session_refresh=60))
    assert first + second == whole

    sessions = of_type(whole, Session)
    emitted = [s.soc_end for s in sessions]
    assert emitted == [None, 6.0, 12.0, 12.0]  # start, after 60 s, after 120 s, stop
    assert sessions[-1].stop_time is not None and sessions[-1].energy_kwh == 0.9
    every_time = of_type(run(log.events, DerivationSettings(session_refresh=0))[1], Session)
    assert [s.soc_end for s in every_time] == [None, *range(1, 13), 12]


def test_start_transaction_timestamp_falls_back_to_receive_time() -> None:
    log = Log()
    log.connect()
    log.exchange(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 5, "timestamp": "yesterday"},
        {"transactionId": 9, "idTagInfo": {"status": "Accepted"}},
    )

    assert of_type(run(log.events)[1], Session) == [
        Session(9, CP, connector_id=1, id_tag="T", start_time=at(2), meter_start=5)
    ]


def test_stop_transaction_for_unknown_transaction_emits_session_without_start() -> None:
    log = Log()
    log.connect()
    log.exchange(
        "StopTransaction",
        {"transactionId": 5, "meterStop": 900, "timestamp": iso(30), "reason": "EVDisconnected"},
        {},
    )

    assert of_type(run(log.events)[1], Session) == [
        Session(5, CP, stop_time=at(30), meter_stop=900, stop_reason="EVDisconnected")
    ]


def test_stop_transaction_repeated_produces_the_same_row() -> None:
    log = session_log()
    stop = next(e for e in log.events if '"StopTransaction"' in e.event.frame)
    log.raw(stop.event.frame, after=30)
    log.result(orjson.loads(stop.event.frame)[1], {})  # answered, as every stop is

    _, records = run(log.events)

    first, repeated = of_type(records, Session)[-2:]
    assert repeated == first
    assert repeated.start_time == at(12)


def test_stop_transaction_repeated_long_after_still_upserts_consistently() -> None:
    """Once the closed session is forgotten, the row comes from the Stop alone."""
    log = Log()
    log.connect()
    stop = {"transactionId": 1, "meterStop": 10, "timestamp": iso(5)}
    log.exchange("StopTransaction", stop, {})
    log.exchange("StopTransaction", stop, {})

    first, repeated = of_type(run(log.events)[1], Session)
    assert first == repeated


# ------------------------------------------------------------------------ status timeline


def test_status_notification_timeline_with_disconnect_and_reconnect() -> None:
    log = Log()
    log.connect()  # t=1
    log.exchange("StatusNotification", status(0, "Available", 1.5), {})
    log.exchange("StatusNotification", status(1, "Available", 2.5), {})
    log.exchange("StatusNotification", status(1, "Preparing", 3.5), {})
    log.disconnect()  # t=5
    log.connect(after=100)  # t=105
    # the charge point reports the status it has been in since before the outage
    log.exchange("StatusNotification", status(1, "Preparing", 3.5), {}, after=1)  # t=106

    state, records = run(log.events)

    intervals = [v for k, v in final(records).items() if k[0] == "StatusInterval"]
    assert sorted(intervals, key=lambda i: (i.connector_id, i.start)) == [
        StatusInterval(CP, 0, at(1.5), "Available", end=at(5)),
        StatusInterval(CP, 0, at(5), "Offline", end=at(105)),  # until the reconnection
        StatusInterval(CP, 0, at(105), "Available", end=None),  # as last reported
        StatusInterval(CP, 1, at(2.5), "Available", end=at(3.5)),
        StatusInterval(CP, 1, at(3.5), "Preparing", end=at(5)),
        StatusInterval(CP, 1, at(5), "Offline", end=at(105)),
        StatusInterval(CP, 1, at(105), "Preparing", end=None),
    ]
    assert state.registry.connected is True
    assert state.registry.connectors == (
        ConnectorStatus(0, "Available", "NoError", at(105)),
        ConnectorStatus(1, "Preparing", "NoError", at(105)),
    )


def test_status_notification_same_status_again_opens_no_interval() -> None:
    log = Log()
    log.connect()
    log.call("StatusNotification", status(1, "Available", 1))
    log.call("StatusNotification", status(1, "Available", 2))

    _, records = run(log.events)
    assert of_type(records, StatusInterval) == [StatusInterval(CP, 1, at(1), "Available")]


def test_status_notification_never_goes_back_in_time() -> None:
    log = Log()
    log.connect()
    log.call("StatusNotification", status(1, "Available", 10))
    log.call("StatusNotification", status(1, "Occupied", 5))  # clock jumped back
    log.call("StatusNotification", status(1, "Charging", 5))

    _, records = run(log.events)
    assert of_type(records, StatusInterval) == [
        StatusInterval(CP, 1, at(10), "Available"),
        StatusInterval(CP, 1, at(10), "Available", end=at(10.001)),
        StatusInterval(CP, 1, at(10.001), "Occupied"),
        StatusInterval(CP, 1, at(10.001), "Occupied", end=at(10.002)),
        StatusInterval(CP, 1, at(10.002), "Charging"),
    ]


def test_disconnected_right_after_a_status_keeps_that_status_interval() -> None:
    log = Log()
    log.connect()
    log.call("StatusNotification", status(1, "Finishing", 3))  # charge point clock 1 s ahead
    log.disconnect()  # t=3

    _, records = run(log.events)
    intervals = [v for k, v in final(records).items() if k[0] == "StatusInterval"]
    assert intervals == [
        StatusInterval(CP, 1, at(3), "Finishing", end=at(3.001)),
        StatusInterval(CP, 1, at(3.001), "Offline"),
    ]


def test_status_notification_timestamps_are_parsed_to_utc_milliseconds() -> None:
    log = Log()
    log.connect()
    log.call(
        "StatusNotification", status(1, "Available", timestamp="2024-05-01T14:00:01.2345+02:00")
    )
    log.call("StatusNotification", status(1, "Occupied", timestamp="2024-05-01T12:00:03.999999Z"))
    log.call("StatusNotification", status(1, "Finishing", timestamp="2024-05-01T12:00:04"))
    log.call("StatusNotification", status(1, "Available", timestamp="garbage"))

    opened = [i.start for i in of_type(run(log.events)[1], StatusInterval) if i.end is None]
    assert opened == [at(1.234), at(3.999), at(4), at(5)]


def test_disconnected_of_an_older_connection_is_ignored() -> None:
    log = Log()
    log.connect()
    log.call("StatusNotification", status(1, "Available", 1))
    log.connect()  # the charge point came back, through another node, before ...
    log.disconnect(connection=1)  # ... the first node noticed the old connection drop

    state, records = run(log.events)
    assert state.registry.connected is True
    assert all(i.status != "Offline" for i in of_type(records, StatusInterval))


# -------------------------------------------------------------------------------- registry


def test_boot_notification_fills_the_registry() -> None:
    state, records = run(session_log().events[:3])

    assert state.registry == ChargePointState(
        charge_point_id=CP,
        connected=True,
        last_seen=at(2),
        connected_since=at(1),
        node="node-a",
        vendor="SIMA",
        model="Wallbox 11",
        serial_number="S-1",
        charge_box_serial_number="B-1",
        firmware_version="2.4.1",
        iccid="8949",
        imsi="2620",
        meter_type="EM340",
        meter_serial_number="M-1",
        last_boot_at=at(2),
        registration_status="Accepted",
        ocpp_version=OcppVersion.V16,
    )
    assert of_type(records, ChargePointState)[-1] == state.registry


def test_heartbeat_last_seen_is_emitted_at_the_configured_resolution() -> None:
    log = Log()
    log.connect()
    for _ in range(12):
        log.exchange("Heartbeat", {}, {"currentTime": iso(0)}, after=10)

    _, records = run(log.events, DerivationSettings(last_seen_resolution=30))
    assert [r.last_seen for r in of_type(records, ChargePointState)] == [
        at(1),
        at(31),
        at(61),
        at(91),
        at(121),
    ]


def test_csms_frames_are_no_sign_of_life() -> None:
    log = Log()
    log.connect()
    log.raw(orjson.dumps([2, "r1", "Reset", {"type": "Soft"}]).decode(), Direction.OUT, after=40)

    state, records = run(log.events)
    assert state.registry.last_seen == at(1)
    assert len(of_type(records, ChargePointState)) == 1


# ---------------------------------------------------------------------------------- alerts


def test_status_notification_faulted_opens_and_closes_an_alert() -> None:
    log = Log()
    log.connect()
    log.call("StatusNotification", status(1, "Available", 1))
    log.call("StatusNotification", status(1, "Faulted", 2, "GroundFailure", info="RCD tripped"))
    log.call("StatusNotification", status(1, "Faulted", 3, "GroundFailure", info="RCD tripped"))
    log.call("StatusNotification", status(1, "Available", 9))

    state, records = run(log.events)
    opened = Alert(
        alert_id=f"{CP}:faulted:1:{int(at(2).timestamp() * 1000)}",
        charge_point_id=CP,
        kind=AlertKind.FAULTED,
        opened_at=at(2),
        message="Connector 1 faulted: GroundFailure (RCD tripped)",
        severity="critical",
        connector_id=1,
    )
    assert of_type(records, Alert) == [opened, replace(opened, closed_at=at(9))]
    assert state.alerts == ()


def test_meter_values_threshold_rule_opens_stays_and_closes() -> None:
    rule = AlertRule("hot", "Temperature", ">", 60.0, severity="critical")
    settings = DerivationSettings(
        rules=(rule, AlertRule("off", "Temperature", ">", 0, enabled=False))
    )
    log = Log()
    log.connect()
    for seconds, celsius in [(10, "55"), (20, "61.5"), (30, "70"), (40, "58")]:
        sample = {
            "timestamp": iso(seconds),
            "sampledValue": [{"value": celsius, "measurand": "Temperature"}],
        }
        log.call("MeterValues", {"connectorId": 1, "meterValue": [sample]})

    state, records = run(log.events, settings)
    opened = Alert(
        alert_id=f"{CP}:threshold:hot:1:{int(at(20).timestamp() * 1000)}",
        charge_point_id=CP,
        kind=AlertKind.THRESHOLD,
        opened_at=at(20),
        message="Temperature 61.5 Celsius > 60",
        severity="critical",
        connector_id=1,
        rule_id="hot",
        value=61.5,
    )
    assert of_type(records, Alert) == [opened, replace(opened, closed_at=at(40))]
    assert state.alerts == ()


def test_meter_values_threshold_compares_in_base_units_and_closes_when_rule_removed() -> None:
    rule = AlertRule("power", "Power.Active.Import", ">", 10_000)
    log = Log()
    log.connect()
    sample = {
        "timestamp": iso(5),
        "sampledValue": [{"value": "11", "measurand": "Power.Active.Import", "unit": "kW"}],
    }
    log.call("MeterValues", {"connectorId": 1, "meterValue": [sample]})
    state, records = run(log.events, DerivationSettings(rules=(rule,)))
    assert of_type(records, Alert)[0].value == 11_000.0

    log.call("MeterValues", {"connectorId": 1, "meterValue": []}, after=5)
    _, records = run(log.events[-2:], DerivationSettings(), state)  # the CALL and its answer
    assert of_type(records, Alert)[0].closed_at == at(7)


def test_tick_opens_offline_alert_at_last_seen_plus_offline_after() -> None:
    log = Log()
    log.connect()
    log.exchange("Heartbeat", {}, {"currentTime": iso(0)})  # last seen t=2
    state, _ = run(log.events)

    assert tick(state, at(602), SETTINGS) == (state, [])
    state, records = tick(state, at(900), SETTINGS)
    offline = Alert(
        alert_id=f"{CP}:offline:{int(at(602).timestamp() * 1000)}",
        charge_point_id=CP,
        kind=AlertKind.OFFLINE,
        opened_at=at(602),
        message="No message from the charge point for over 600 s",
    )
    assert records == [offline]
    assert tick(state, at(2000), SETTINGS) == (state, [])

    log.exchange("Heartbeat", {}, {"currentTime": iso(0)}, after=1000)
    _, records = run(log.events[-2:], SETTINGS, state)
    assert of_type(records, Alert) == [replace(offline, closed_at=at(1002))]


def test_late_event_opens_and_closes_the_offline_alert_a_tick_would_have() -> None:
    log = Log()
    log.connect()
    log.exchange("Heartbeat", {}, {"currentTime": iso(0)})
    log.exchange("Heartbeat", {}, {"currentTime": iso(0)}, after=1000)

    _, records = run(log.events)  # no tick at all
    alerts = of_type(records, Alert)
    assert [a.opened_at for a in alerts] == [at(602), at(602)]
    assert alerts[-1].closed_at == at(1002)

    state, before = run(log.events[:3])
    state, ticked = tick(state, at(700), SETTINGS)
    _, after = run(log.events[3:], SETTINGS, state)
    assert final(before + ticked + after) == final(records)


def test_disconnected_leaves_the_offline_alert_open_until_connected() -> None:
    log = Log()
    log.connect()
    log.disconnect(after=2000)  # noticed late: the alert opens and stays open
    log.connect(after=100)

    _, records = run(log.events)
    alerts = of_type(records, Alert)
    assert [(a.opened_at, a.closed_at) for a in alerts] == [(at(601), None), (at(601), at(2101))]


# --------------------------------------------------------------------------- idempotency


def test_an_already_applied_position_is_ignored() -> None:
    events = session_log().events
    state, _ = run(events[:8])

    assert derive(state, events[7], SETTINGS) == (state, [])
    assert derive(state, events[2], SETTINGS) == (state, [])


def test_deriving_the_log_twice_yields_identical_records() -> None:
    events = session_log().events
    assert run(events) == run(events)


def long_log() -> list[LoggedEvent]:
    log = session_log()
    log.disconnect()
    log.connect(after=800)
    return log.events


@pytest.mark.parametrize("cut", range(1, len(long_log())))
def test_state_survives_json_round_trip_mid_stream(cut: int) -> None:
    events = long_log()
    settings = DerivationSettings(rules=(AlertRule("soc", "SoC", ">", 21),))
    whole_state, whole = run(events, settings)

    state, first = run(events[:cut], settings)
    restored = ChargePointDerivation.from_json(state.to_json())
    assert restored == state
    assert restored.to_json() == state.to_json()
    end_state, rest = run(events[cut:], settings, restored)
    assert first + rest == whole
    assert end_state == whole_state


def test_state_stays_small() -> None:
    log = Log()
    log.connect()
    for n in range(200):
        log.unanswered(
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": n, "timestamp": iso(n)},
        )  # never answered
        log.call("MeterValues", {"connectorId": 1, "meterValue": [sima_sample(n, n, 1.0, 50)]})
        log.exchange(
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": n, "timestamp": iso(n)},
            {"transactionId": n, "idTagInfo": {"status": "Accepted"}},
        )  # never stopped

    state, _ = run(log.events)
    assert len(state.pending) <= 32
    assert len(state.sessions) == 16
    assert len(state.to_json()) < 20_000


# ------------------------------------------------------------------------ malformed input


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "not json",
        "{}",
        "[]",
        "[2]",
        '[2, "1", "StatusNotification"]',
        '[2, 1, "StatusNotification", {}]',
        '[2, "1", "StatusNotification", []]',
        '[9, "1", {}]',
        '[3, "1", "x"]',
        '[2, "1", "MeterValues", {"connectorId": 1, "meterValue": {"sampledValue": 1}}]',
        '[2, "1", "MeterValues", {"connectorId": true, "meterValue": [null, 1, {}]}]',
        '[2, "1", "StatusNotification", {"connectorId": 1.0, "status": "Available"}]',
        '[2, "1", "StopTransaction", {"transactionId": "7", "meterStop": 1}]',
        '[2, "1", "StopTransaction", {"transactionId": 99999999999999999999999}]',
    ],
)
def test_malformed_frame_is_skipped(frame: str) -> None:
    log = Log()
    log.connect()
    log.raw(frame, after=40)

    state, records = run(log.events)
    assert state.position == 2
    assert state.registry.last_seen == at(41)
    assert of_type(records, StatusInterval) == of_type(records, Session) == []


def field_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a decoded frame that holds a value: dict keys and list items."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    paths = []
    for key, child in items:
        paths.append((*path, key))
        if isinstance(child, dict | list):
            paths.extend(field_paths(child, (*path, key)))
    return paths


def with_value(message: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = orjson.loads(orjson.dumps(message))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


def test_wrong_values_anywhere_in_any_message_never_raise() -> None:
    bad_values: list[Any] = [None, True, -1, 1.5, "x", [], {}, "2024-13-45T99:00:00Z"]
    derive_with_every_field_broken(session_log().events, bad_values)


def derive_with_every_field_broken(events: list[LoggedEvent], bad_values: list[Any]) -> None:
    """Derive the log again with each bad value in each place of each frame in turn."""
    for index, logged in enumerate(events):
        if logged.event.kind is not EventKind.FRAME:
            continue
        state, _ = run(events[:index])
        message = orjson.loads(logged.event.frame)
        for path, bad in itertools.product(field_paths(message), bad_values):
            frame = orjson.dumps(with_value(message, path, bad)).decode()
            broken = replace(logged, event=replace(logged.event, frame=frame))
            run([broken, *events[index + 1 :]], SETTINGS, state)


# ------------------------------------- what the CSMS refused, and a stop that comes twice


def refused(log: Log, action: str, payload: dict[str, Any], code: str = "SecurityError") -> None:
    """A charge point CALL the gateway answered with a CALLERROR."""
    log.error(log.unanswered(action, payload), code)


def unaccepted_log() -> Log:
    """A charge point the CSMS does not accept tries everything (policy reject)."""
    log = Log()
    log.connect()
    log.exchange("BootNotification", BOOT, {"status": "Rejected", "currentTime": iso(0)})
    refused(log, "StatusNotification", status(1, "Faulted", 2, "GroundFailure"))
    refused(log, "Authorize", {"idTag": "TAG-1"})
    refused(log, "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0})
    refused(
        log,
        "MeterValues",
        {"connectorId": 1, "transactionId": 7, "meterValue": [sima_sample(5, 99_999_000, 11, 50)]},
    )
    refused(log, "StopTransaction", {"transactionId": 7, "meterStop": 99_999_000})
    return log


def test_nothing_a_refused_charge_point_sends_becomes_a_session_meter_value_or_alert() -> None:
    log = unaccepted_log()
    rules = DerivationSettings(rules=(AlertRule("hot", "Temperature", ">", 0),))

    state, records = run(log.events, rules)

    assert of_type(records, Session) == of_type(records, MeterValue) == []
    assert of_type(records, Alert) == of_type(records, StatusInterval) == []
    assert state.registry.registration_status == "Rejected"  # what operators see
    assert state.refused
    assert state.pending == ()  # answered, so forgotten


def test_a_call_answered_with_any_callerror_is_not_derived() -> None:
    log = Log()
    log.connect()
    refused(log, "StatusNotification", status(1, "Faulted", 2), "PropertyConstraintViolation")
    refused(
        log,
        "MeterValues",
        {"connectorId": 1, "meterValue": [sima_sample(5, 9, 11, 50)]},
        "GenericError",
    )  # beyond the CALL rate
    state, records = run(log.events)
    assert of_type(records, StatusInterval) == of_type(records, MeterValue) == []
    assert not state.refused  # only a SecurityError says the charge point is not accepted


def test_a_call_without_its_answer_in_the_log_is_not_derived_yet() -> None:
    log = Log()
    log.connect()
    message_id = log.unanswered("StatusNotification", status(1, "Charging", 2))
    state, records = run(log.events)
    assert of_type(records, StatusInterval) == []

    log.result(message_id, {}, after=5)  # the answer, derived with the CALL's own time
    _, records = run(log.events[-1:], SETTINGS, state)
    assert [(i.status, i.start) for i in of_type(records, StatusInterval)] == [("Charging", at(2))]


def test_while_pending_what_the_csms_triggered_and_answered_is_derived() -> None:
    log = Log()
    log.connect()
    log.exchange("BootNotification", BOOT, {"status": "Pending", "currentTime": iso(0)})
    refused(log, "StatusNotification", status(1, "Available", 2))
    log.call("StatusNotification", status(1, "Charging", 3))  # triggered: answered
    _, records = run(log.events)
    assert [i.status for i in of_type(records, StatusInterval)] == ["Charging"]


def test_a_charge_point_the_csms_does_not_accept_gets_no_offline_alert() -> None:
    state, records = run(unaccepted_log().events)
    assert tick(state, at(5000), SETTINGS) == (state, [])

    log = unaccepted_log()
    log.disconnect(after=2000)
    log.connect(after=10)
    _, records = run(log.events)
    assert of_type(records, Alert) == []


def test_offline_alerts_come_back_once_the_charge_point_is_accepted() -> None:
    log = unaccepted_log()
    log.exchange("BootNotification", BOOT, {"status": "Accepted", "currentTime": iso(0)})
    state, _ = run(log.events)
    assert not state.refused
    _, alerts = tick(state, at(5000), SETTINGS)
    assert [a.kind for a in alerts] == [AlertKind.OFFLINE]


def test_an_accepted_call_says_the_refusal_is_over() -> None:
    log = Log()
    log.connect()
    refused(log, "Heartbeat", {})
    state, _ = run(log.events)
    assert state.refused
    log.exchange("Authorize", {"idTag": "T"}, {"idTagInfo": {"status": "Accepted"}})
    state, _ = run(log.events)
    assert not state.refused


def stop(seconds: float, reason: str, meter: int) -> dict[str, Any]:
    return {"transactionId": 42, "meterStop": meter, "timestamp": iso(seconds), "reason": reason}


def test_a_duplicate_stop_never_overwrites_the_first() -> None:
    log = session_log()  # transaction 42 stopped at t=200, reason Local
    first = of_type(run(log.events)[1], Session)[-1]
    log.exchange("StopTransaction", stop(900, "EVDisconnected", 99_999), {}, after=30)

    _, records = run(log.events)

    sessions = of_type(records, Session)
    assert sessions[-1] == first  # emitted again, unchanged: an idempotent upsert
    assert final(records)[("Session", (42,))] == first
    assert (first.stop_time, first.stop_reason, first.meter_stop) == (at(200), "Local", 15432)


def test_a_stop_of_a_forgotten_session_emits_nothing() -> None:
    log = session_log()
    for n in range(1, 6):  # five more sessions: 42 leaves the closed sessions kept whole
        log.exchange(
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(300 + n)},
            {"transactionId": 42 + n, "idTagInfo": {"status": "Accepted"}},
        )
        log.exchange("StopTransaction", {"transactionId": 42 + n, "meterStop": n}, {})
    state, _ = run(log.events)
    assert 42 not in {s.transaction_id for s in state.closed} and 42 in state.stopped

    log.exchange("StopTransaction", stop(900, "EVDisconnected", 99_999), {}, after=30)
    _, records = run(log.events[-2:], SETTINGS, state)
    assert of_type(records, Session) == []


def test_a_start_result_after_its_stop_does_not_reopen_the_session() -> None:
    log = session_log()
    log.exchange(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": iso(12)},
        {"transactionId": 42, "idTagInfo": {"status": "Accepted"}},
        after=5,
    )  # the Start resent after the stop: the same id again
    state, records = run(log.events)
    assert 42 not in {s.transaction_id for s in state.sessions}
    assert final(records)[("Session", (42,))].stop_reason == "Local"


def hardened_log() -> list[LoggedEvent]:
    """Refusals, a rate-limited CALL, a late answer, duplicate stops: the whole gamut."""
    log = session_log()
    refused(
        log,
        "MeterValues",
        {"connectorId": 1, "meterValue": [sima_sample(210, 9, 1, 5)]},
        "GenericError",
    )
    log.exchange("StopTransaction", stop(900, "EVDisconnected", 99_999), {}, after=30)
    log.exchange("StopTransaction", stop(200, "Local", 15432), {})
    log.disconnect()
    log.connect(after=10)
    log.exchange("BootNotification", BOOT, {"status": "Pending", "currentTime": iso(0)})
    refused(log, "StartTransaction", {"connectorId": 2, "idTag": "T", "meterStart": 0})
    log.call("StatusNotification", status(2, "Faulted", 2, "GroundFailure"))  # triggered
    log.exchange("BootNotification", BOOT, {"status": "Accepted", "currentTime": iso(0)})
    log.exchange(
        "StartTransaction",
        {"connectorId": 2, "idTag": "T", "meterStart": 0, "timestamp": iso(1000)},
        {"transactionId": 43, "idTagInfo": {"status": "Accepted"}},
    )
    log.exchange("StopTransaction", {"transactionId": 43, "meterStop": 7000}, {})
    log.exchange("StopTransaction", {"transactionId": 43, "meterStop": 1}, {})
    return log.events


def test_replay_of_a_hardened_log_equals_the_live_derivation_at_every_cut() -> None:
    events = hardened_log()
    settings = DerivationSettings(rules=(AlertRule("soc", "SoC", ">", 21),))
    whole_state, whole = run(events, settings)
    assert whole_state.pending == ()
    for cut in range(1, len(events)):  # including between a CALL and its answer
        state, first = run(events[:cut], settings)
        restored = ChargePointDerivation.from_json(state.to_json())
        assert restored == state
        end_state, rest = run(events[cut:], settings, restored)
        assert first + rest == whole, cut
        assert end_state == whole_state, cut
    assert final(whole)[("Session", (43,))].meter_stop == 7000


# -- values no record can hold (found by the fuzzers)


def test_connector_ids_beyond_the_cap_or_int64_are_ignored() -> None:
    log = Log()
    log.connect()
    for connector in (1, MAX_CONNECTOR_ID, MAX_CONNECTOR_ID + 1, 2**63 - 1, 2**63, 2**64 - 1):
        log.call("StatusNotification", status(connector, "Available"))
        log.call("MeterValues", {"connectorId": connector, "meterValue": [sima_sample(5, 1, 1, 1)]})
    state, records = run(log.events)
    assert [i.connector_id for i in state.intervals] == [1, MAX_CONNECTOR_ID]
    assert [c.connector_id for c in state.registry.connectors] == [1, MAX_CONNECTOR_ID]
    assert {v.connector_id for v in of_type(records, MeterValue)} == {1, MAX_CONNECTOR_ID}


def test_integers_beyond_int64_read_as_absent() -> None:
    log = session_log()
    log.call("StopTransaction", {"transactionId": 2**64 - 1, "meterStop": 5, "timestamp": iso(9)})
    log.call("MeterValues", {"connectorId": 1, "transactionId": 2**63, "meterValue": []})
    _, records = run(log.events)
    sessions = of_type(records, Session)
    assert all(-(2**63) <= s.transaction_id < 2**63 for s in sessions)
    assert all(s.meter_stop is None or s.meter_stop < 2**63 for s in sessions)


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00+01:00"])
def test_timestamps_at_the_ends_of_time_fall_back_to_the_receive_time(timestamp: str) -> None:
    log = Log()
    log.connect()
    for state_name in ("Available", "Preparing", "Charging"):
        log.call("StatusNotification", {**status(1, state_name), "timestamp": timestamp})
    state, records = run(log.events)
    assert [i.start for i in of_type(records, StatusInterval) if i.end is None] == [
        at(2),
        at(3),
        at(4),
    ]
    assert state.intervals[0].status == "Charging"


def test_a_call_nested_deeper_than_json_can_be_written_is_not_derived() -> None:
    log = Log()
    log.connect()
    nested = "[" * 300 + "]" * 300
    log.raw(f'[2,"deep","BootNotification",{{"chargePointVendor":"v","x":{nested}}}]')
    log.result("deep", {"status": "Accepted", "currentTime": iso(0), "interval": 60})
    state, records = run(log.events)
    assert state.registry.vendor is None and not state.pending
    assert of_type(records, ChargePointState)  # the connect, the signs of life: derived


def test_offline_due_is_when_tick_opens_the_offline_alert() -> None:
    log = Log()
    log.connect()
    log.exchange("Heartbeat", {}, {"currentTime": iso(0)})  # last seen t=2
    state, _ = run(log.events)
    due = offline_due(state, SETTINGS)
    assert due == at(602) + timedelta(milliseconds=1)
    assert tick(state, due - timedelta(milliseconds=1), SETTINGS)[1] == []
    state, records = tick(state, due, SETTINGS)
    assert of_type(records, Alert) and offline_due(state, SETTINGS) is None  # until seen again
    assert offline_due(replace(state, alerts=(), refused=True), SETTINGS) is None
    assert offline_due(ChargePointDerivation.new(CP), SETTINGS) is None
