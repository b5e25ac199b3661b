"""What a charge point the CSMS has not accepted may send (gateway/admission.py)."""

from __future__ import annotations

import pytest

from chargestream.gateway.admission import Admission, Standing, triggered_action


def test_an_accepted_charge_point_may_send_anything() -> None:
    admission = Admission()
    assert all(
        admission.admits(Standing.ACCEPTED, action)
        for action in ("Heartbeat", "StartTransaction", "MeterValues", "Teleport")
    )


@pytest.mark.parametrize("standing", [Standing.PENDING, Standing.REJECTED])
def test_a_charge_point_not_accepted_may_send_boot_notification_only(standing: Standing) -> None:
    admission = Admission()
    assert admission.admits(standing, "BootNotification")
    assert not any(
        admission.admits(standing, action)
        for action in ("Heartbeat", "Authorize", "StartTransaction", "StopTransaction")
    )


def test_while_pending_a_triggered_message_is_admitted_once() -> None:
    admission = Admission()
    admission.expect("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert admission.admits(Standing.PENDING, "Heartbeat")
    assert not admission.admits(Standing.PENDING, "Heartbeat")  # used up
    assert not admission.admits(Standing.PENDING, "StatusNotification")  # never asked for


def test_a_rejected_charge_point_gets_nothing_for_a_trigger() -> None:
    admission = Admission()
    admission.expect("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert not admission.admits(Standing.REJECTED, "Heartbeat")


def test_a_trigger_without_connector_admits_one_status_per_connector() -> None:
    admission = Admission()
    admission.expect("TriggerMessage", {"requestedMessage": "StatusNotification"})
    assert admission.outstanding("StatusNotification") == 16
    admission.expect("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2})
    assert admission.outstanding("StatusNotification") == 17


def test_a_withdrawn_trigger_admits_nothing() -> None:
    admission = Admission()
    trigger = {"requestedMessage": "MeterValues", "connectorId": 1}
    allowed = admission.expect("TriggerMessage", trigger)
    assert allowed == ("MeterValues", 1)
    admission.withdraw(allowed)
    assert not admission.admits(Standing.PENDING, "MeterValues")
    admission.withdraw(allowed)  # twice: still nothing, no error


def test_other_commands_admit_nothing() -> None:
    admission = Admission()
    assert admission.expect("Reset", {"type": "Soft"}) is None
    assert admission.expect("TriggerMessage", {"requestedMessage": 7}) is None
    assert admission.expect("TriggerMessage", {"requestedMessage": "Teleport"}) is None
    assert not admission.admits(Standing.PENDING, "Heartbeat")


def test_outstanding_triggers_are_bounded() -> None:
    admission = Admission()
    for _ in range(1000):
        admission.expect("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert admission.outstanding("Heartbeat") == 64
    assert admission.expect("TriggerMessage", {"requestedMessage": "Heartbeat"}) is None


@pytest.mark.parametrize(
    ("command", "requested", "action"),
    [
        ("TriggerMessage", "FirmwareStatusNotification", "FirmwareStatusNotification"),
        (
            "ExtendedTriggerMessage",
            "FirmwareStatusNotification",
            "SignedFirmwareStatusNotification",
        ),
        ("ExtendedTriggerMessage", "SignChargePointCertificate", "SignCertificate"),
        ("ExtendedTriggerMessage", "LogStatusNotification", "LogStatusNotification"),
        ("TriggerMessage", "BootNotification", "BootNotification"),
    ],
)
def test_trigger_commands_name_the_call_they_ask_for(
    command: str, requested: str, action: str
) -> None:
    assert triggered_action(command, {"requestedMessage": requested}) == action
