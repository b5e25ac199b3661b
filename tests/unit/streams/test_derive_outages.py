"""Offline time ends at the reconnection: hand-built event timelines derived and measured.

Every moment between a disconnect and the next connection is Offline whatever the statuses
the charge point queued meanwhile say; elsewhere statuses count from their own timestamps.
"""

from __future__ import annotations

from chargestream.domain.availability import PortAvailability, Span, availability_report
from chargestream.domain.records import Alert, StatusInterval
from tests.unit.streams.test_derive import Log, at, final, of_type, run, status

PERIOD = Span(at(0), at(200))


def connected_then_gone(first: str = "Available", error_code: str = "NoError") -> Log:
    """Connected at t=1 with connector 1 in ``first`` since t=1, disconnected at t=10."""
    log = Log()
    log.connect()  # t=1
    log.exchange("StatusNotification", status(1, first, 1, error_code), {})  # t=2
    log.disconnect(after=8)  # t=10
    return log


def timeline(log: Log) -> list[tuple[float, float | None, str]]:
    """Connector 1's intervals as the store holds them: (start, end, status) in seconds."""
    intervals = [r for r in final(run(log.events)[1]).values() if isinstance(r, StatusInterval)]
    return [
        (
            (i.start - at(0)).total_seconds(),
            None if i.end is None else (i.end - at(0)).total_seconds(),
            i.status,
        )
        for i in sorted(intervals, key=lambda i: i.start)
        if i.connector_id == 1
    ]


def port(log: Log, period: Span = PERIOD) -> PortAvailability:
    intervals = [r for r in final(run(log.events)[1]).values() if isinstance(r, StatusInterval)]
    (measured,) = availability_report(intervals, period, [], {}).ports
    return measured


def test_statuses_queued_while_offline_do_not_shorten_the_outage() -> None:
    log = connected_then_gone()
    log.connect(after=90)  # t=100
    log.exchange("StatusNotification", status(1, "Preparing", 5), {})  # before the disconnect
    log.exchange("StatusNotification", status(1, "Faulted", 20, "GroundFailure"), {})
    log.exchange("StatusNotification", status(1, "Available", 50), {})

    assert timeline(log) == [
        (1, 10, "Available"),
        (10, 100, "Offline"),
        (100, 100.001, "Available"),  # as last reported, until the queued statuses
        (100.001, 100.002, "Preparing"),
        (100.002, 100.003, "Faulted"),
        (100.003, None, "Available"),
    ]
    measured = port(log)
    assert measured.seconds_by_status["Offline"] == 90
    assert round(measured.totals.down_s, 3) == 90.001  # and the queued Faulted's millisecond


def test_a_late_first_status_counts_from_its_own_timestamp() -> None:
    log = connected_then_gone()
    log.connect(after=90)  # t=100
    log.exchange("StatusNotification", status(1, "Charging", 130), {}, after=31)

    assert timeline(log) == [
        (1, 10, "Available"),
        (10, 100, "Offline"),
        (100, 130, "Available"),
        (130, None, "Charging"),
    ]
    assert port(log).seconds_by_status == {"Available": 39, "Offline": 90, "Charging": 70}


def test_still_disconnected_at_the_end_of_the_period() -> None:
    log = connected_then_gone()

    assert timeline(log) == [(1, 10, "Available"), (10, None, "Offline")]
    measured = port(log, Span(at(0), at(60)))
    assert measured.seconds_by_status == {"Available": 9, "Offline": 50}
    assert measured.totals.down_s == 50


def test_a_reconnection_without_any_status_keeps_the_last_reported_one() -> None:
    log = connected_then_gone("Faulted", "GroundFailure")
    log.connect(after=90)  # t=100
    log.call("Heartbeat", {}, after=5)

    state, records = run(log.events)
    assert timeline(log) == [(1, 10, "Faulted"), (10, 100, "Offline"), (100, None, "Faulted")]
    assert port(log).seconds_by_status == {"Faulted": 109, "Offline": 90}
    assert len({a.alert_id for a in of_type(records, Alert)}) == 1  # the same fault, one alert
    assert [c.since for c in state.registry.connectors] == [at(100)]


def test_a_second_outage_before_any_status_is_measured_alike() -> None:
    log = connected_then_gone()
    log.connect(after=90)  # t=100
    log.disconnect(after=20)  # t=120
    log.connect(after=30)  # t=150
    log.exchange("StatusNotification", status(1, "Available", 151), {})

    assert timeline(log) == [
        (1, 10, "Available"),
        (10, 100, "Offline"),
        (100, 120, "Available"),
        (120, 150, "Offline"),
        (150, None, "Available"),
    ]
    assert port(log).seconds_by_status == {"Available": 79, "Offline": 120}


def test_a_connection_replacing_a_live_one_is_no_outage() -> None:
    log = Log()
    log.connect()
    log.exchange("StatusNotification", status(1, "Charging", 1), {})
    log.connect(after=5)  # the same charge point again before its old socket closed
    log.disconnect(connection=1)  # the old connection's late close: stale

    assert timeline(log) == [(1, None, "Charging")]
