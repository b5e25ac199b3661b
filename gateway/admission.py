"""Which CALLs a charge point may send before the CSMS has accepted it (OCPP 1.6, 4.2).

A charge point whose registration is ``Pending`` or ``Rejected`` may send BootNotification
only; while ``Pending`` it may also send what the CSMS itself asked for with a
TriggerMessage (or ExtendedTriggerMessage) on the same connection. Everything else is
answered with a ``SecurityError`` CALLERROR (``gateway/dispatch.py``), so nothing such a
charge point sends is acknowledged, and derivation, which derives only what was answered
with a CALLRESULT, makes nothing of it.

``Admission`` keeps one connection's outstanding triggers; it is pure and bounded.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Any


class Standing(StrEnum):
    """A charge point's registration status, as BootNotification answers it."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


ALWAYS_ADMITTED = frozenset({"BootNotification"})

# requestedMessage of TriggerMessage / ExtendedTriggerMessage -> the CALL it asks for
TRIGGERED_ACTIONS = {
    "BootNotification": "BootNotification",
    "DiagnosticsStatusNotification": "DiagnosticsStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "StatusNotification": "StatusNotification",
    "LogStatusNotification": "LogStatusNotification",
    "SignChargePointCertificate": "SignCertificate",
    # OCPP 2.0.1 TriggerMessage
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
    "TransactionEvent": "TransactionEvent",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}
TRIGGER_COMMANDS = frozenset({"TriggerMessage", "ExtendedTriggerMessage"})
# Without a connectorId, these are answered once per connector (at most this many).
MESSAGES_PER_TRIGGER = {"StatusNotification": 16, "MeterValues": 16}
MAX_OUTSTANDING = 64


def triggered_action(command: str, payload: dict[str, Any]) -> str | None:
    """The CALL a trigger command asks the charge point for (None: not a trigger)."""
    if command not in TRIGGER_COMMANDS:
        return None
    requested = payload.get("requestedMessage")
    if not isinstance(requested, str):
        return None
    if command == "TriggerMessage" and requested == "FirmwareStatusNotification":
        return "FirmwareStatusNotification"
    if requested == "FirmwareStatusNotification":  # the extended one is about signed firmware
        return "SignedFirmwareStatusNotification"
    return TRIGGERED_ACTIONS.get(requested)


class Admission:
    """One connection's triggers: CALLs the CSMS asked for and has not yet received."""

    def __init__(self) -> None:
        self._outstanding: Counter[str] = Counter()

    def expect(self, command: str, payload: dict[str, Any]) -> tuple[str, int] | None:
        """The CSMS sends ``command``: if it is a trigger, allow what it asks for.

        Returns what was allowed (action, how many), for ``withdraw``.
        """
        action = triggered_action(command, payload)
        if action is None:
            return None
        one = "connectorId" in payload or "evse" in payload  # 2.0.1 names an EVSE
        allowance = 1 if one else MESSAGES_PER_TRIGGER.get(action, 1)
        allowance = min(allowance, MAX_OUTSTANDING - sum(self._outstanding.values()))
        if allowance <= 0:
            return None
        self._outstanding[action] += allowance
        return action, allowance

    def withdraw(self, allowed: tuple[str, int]) -> None:
        """The charge point did not accept the trigger: it will not send the message."""
        action, allowance = allowed
        left = self._outstanding[action] - allowance
        if left > 0:
            self._outstanding[action] = left
        else:
            self._outstanding.pop(action, None)

    def admits(self, standing: Standing, action: str) -> bool:
        """May a charge point in ``standing`` send ``action`` now? Uses up a trigger."""
        if standing is Standing.ACCEPTED or action in ALWAYS_ADMITTED:
            return True
        if standing is Standing.PENDING and self._outstanding[action] > 0:
            self._outstanding[action] -= 1
            if not self._outstanding[action]:
                del self._outstanding[action]
            return True
        return False

    def outstanding(self, action: str) -> int:
        return self._outstanding[action]
