"""Derivation of the OCPP 1.6 security messages: security events, their alerts, the
signed-firmware and log-upload statuses."""

from __future__ import annotations

import itertools
from typing import Any

from chargestream.domain.records import Alert, AlertKind, SecurityEvent, TransferStatus
from chargestream.streams.security import CRITICAL_EVENTS
from tests.unit.streams.test_derive import CP, Log, at, final, iso, of_type, run


def security_log() -> Log:
    log = Log()
    log.connect()
    log.exchange(
        "BootNotification",
        {"chargePointVendor": "V", "chargePointModel": "M"},
        {"status": "Accepted", "currentTime": iso(1), "interval": 300},
    )
    return log


def event(seconds: float, event_type: str, tech_info: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": event_type, "timestamp": iso(seconds)}
    if tech_info is not None:
        payload["techInfo"] = tech_info
    return payload


def security_alerts(records: list[Any]) -> list[Alert]:
    alerts = [r for r in final(records).values() if isinstance(r, Alert)]
    return [a for a in alerts if a.kind is AlertKind.SECURITY]


def test_the_critical_events_are_those_of_the_whitepaper() -> None:
    assert {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
    } == CRITICAL_EVENTS


def test_a_non_critical_event_is_recorded_without_an_alert() -> None:
    log = security_log()
    log.call("SecurityEventNotification", event(-60, "InvalidMessages", "bad frame"))
    _, records = run(log.events)
    (recorded,) = of_type(records, SecurityEvent)
    assert recorded == SecurityEvent(
        CP, at(-60), "InvalidMessages", at(3), critical=False, tech_info="bad frame"
    )
    assert security_alerts(records) == []


def test_a_critical_event_opens_a_security_alert_that_a_newer_one_replaces() -> None:
    log = security_log()
    log.call("SecurityEventNotification", event(2, "TamperDetectionActivated", "lid open"))
    state, records = run(log.events)
    (alert,) = security_alerts(records)
    assert alert.open and alert.severity == "critical"
    assert alert.opened_at == at(3)
    assert alert.message == "Security event TamperDetectionActivated: lid open"
    assert [a.alert_id for a in state.alerts] == [alert.alert_id]

    log.call("SecurityEventNotification", event(10, "ResetOrReboot"), after=10)
    state, records = run(log.events)
    first, second = sorted(security_alerts(records), key=lambda a: a.opened_at)
    assert first.alert_id == alert.alert_id and first.closed_at == at(13)
    assert second.open and second.message == "Security event ResetOrReboot"
    assert [a.alert_id for a in state.alerts] == [second.alert_id]


def test_the_same_event_sent_again_is_one_event_and_one_alert() -> None:
    log = security_log()
    for _ in range(3):
        log.call("SecurityEventNotification", event(2, "MemoryExhaustion"))
    _, records = run(log.events)
    events = [r for r in final(records).values() if isinstance(r, SecurityEvent)]
    assert len(events) == 1
    (alert,) = security_alerts(records)
    assert alert.open and alert.opened_at == at(3)


def test_a_rejected_sign_certificate_is_a_csms_side_event_with_a_warning_alert() -> None:
    log = security_log()
    log.exchange(
        "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}, {"status": "Rejected"}
    )
    log.exchange("SignCertificate", {"csr": "x"}, {"status": "Accepted"})
    _, records = run(log.events)
    (recorded,) = of_type(records, SecurityEvent)
    assert (recorded.event_type, recorded.critical, recorded.timestamp) == (
        "CsrRejected",
        False,
        at(3),
    )
    (alert,) = security_alerts(records)
    assert alert.open and alert.severity == "warning"


def test_untrusted_fields_are_bounded_and_wrong_types_ignored() -> None:
    log = security_log()
    log.call(
        "SecurityEventNotification",
        {"type": "T" * 500, "timestamp": "soon", "techInfo": "i" * 5000},
    )
    log.call("SecurityEventNotification", {"type": 7, "timestamp": iso(0)})
    log.call("SecurityEventNotification", {"type": "", "timestamp": iso(0)})
    log.call("SignedFirmwareStatusNotification", {"status": ["Installed"], "requestId": 1})
    log.call("LogStatusNotification", {"status": "S" * 99, "requestId": 2**40})
    _, records = run(log.events)
    (recorded,) = of_type(records, SecurityEvent)
    assert recorded.event_type == "T" * 50
    assert recorded.tech_info == "i" * 255
    assert recorded.timestamp == recorded.received_at == at(3)  # unreadable: when received
    (status,) = of_type(records, TransferStatus)
    assert (status.transfer, status.status, status.request_id) == ("log", "S" * 50, None)


def test_firmware_and_log_statuses_keep_the_latest_of_each() -> None:
    log = security_log()
    log.call("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 5})
    log.call("LogStatusNotification", {"status": "Uploading", "requestId": 9})
    log.call("SignedFirmwareStatusNotification", {"status": "Installed", "requestId": 5})
    _, records = run(log.events)
    stored = [r for r in final(records).values() if isinstance(r, TransferStatus)]
    assert sorted(stored, key=lambda s: s.transfer) == [
        TransferStatus(CP, "firmware", "Installed", at(5), 5),
        TransferStatus(CP, "log", "Uploading", at(4), 9),
    ]


def test_unanswered_or_refused_security_calls_derive_nothing() -> None:
    log = security_log()
    log.unanswered("SecurityEventNotification", event(1, "TamperDetectionActivated"))
    message_id = log.unanswered("LogStatusNotification", {"status": "Uploaded"})
    log.error(message_id, "SecurityError")
    _, records = run(log.events)
    assert of_type(records, SecurityEvent) == []
    assert of_type(records, TransferStatus) == []
    assert security_alerts(records) == []


def test_a_replay_from_any_cut_derives_the_same_security_records() -> None:
    log = security_log()
    log.call("SecurityEventNotification", event(1, "StartupOfTheDevice"))
    log.call("LogStatusNotification", {"status": "Uploaded", "requestId": 1})
    log.exchange("SignCertificate", {"csr": "x"}, {"status": "Rejected"})
    log.call("SecurityEventNotification", event(9, "InvalidMessages"))
    _, whole = run(log.events)
    expected = final(whole)
    for cut in range(1, len(log.events)):
        state, first = run(log.events[:cut])
        restored = type(state).from_json(state.to_json())
        _, rest = run(log.events[cut:], state=restored)
        assert final(first + rest) == expected


def test_wrong_values_in_security_messages_never_raise() -> None:
    bad_values: list[Any] = [None, True, -1, 2**40, 1.5, "x", [], {}, "2024-13-45T99:00:00Z"]
    messages = [
        ("SecurityEventNotification", event(1, "ResetOrReboot", "t")),
        ("SignedFirmwareStatusNotification", {"status": "Installed", "requestId": 1}),
        ("LogStatusNotification", {"status": "Uploaded", "requestId": 1}),
    ]
    for (action, payload), bad in itertools.product(messages, bad_values):
        for name in payload:
            log = security_log()
            log.call(action, {**payload, name: bad})
            run(log.events)
        log = security_log()
        message_id = log.unanswered("SignCertificate", {"csr": "x"})
        log.result(message_id, {"status": bad})
        run(log.events)
