"""The OCPP 1.6 security messages as records: security events and transfer statuses.

Everything here comes from the charge point (a lenient one may break the schema): text
is bounded to the OCPP lengths, anything of the wrong type reads as absent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargestream.domain.records import SecurityEvent, TransferStatus
from chargestream.streams.parse import get_int, get_str, parse_time

MAX_TYPE = 50  # SecurityEventNotification.type: string[50]
MAX_TECH_INFO = 255  # techInfo: string[255]
MAX_STATUS = 50  # longer than every status of the two enums
INT32 = 2**31  # requestId is an OCPP integer
CSR_REJECTED = "CsrRejected"
FIRMWARE = "firmware"
LOG = "log"
DIAGNOSTICS = "diagnostics"  # DiagnosticsStatusNotification (OCPP 1.6 core profile)

# "Improved security for OCPP 1.6-J", appendix "Security events": the critical ones.
CRITICAL_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
    }
)


def _bounded(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]


def security_event(cp: str, payload: dict[str, Any], received_at: datetime) -> SecurityEvent | None:
    """The event a SecurityEventNotification reports; None without a usable type.

    A missing or unreadable timestamp is the time the CSMS received it.
    """
    event_type = _bounded(get_str(payload, "type"), MAX_TYPE)
    if not event_type:
        return None
    return SecurityEvent(
        charge_point_id=cp,
        timestamp=parse_time(payload.get("timestamp"), received_at),
        event_type=event_type,
        received_at=received_at,
        critical=event_type in CRITICAL_EVENTS,
        tech_info=_bounded(get_str(payload, "techInfo"), MAX_TECH_INFO),
    )


def csr_rejected(cp: str, sent_at: datetime) -> SecurityEvent:
    """The CSMS answered a charge point's SignCertificate with Rejected."""
    return SecurityEvent(
        charge_point_id=cp,
        timestamp=sent_at,
        event_type=CSR_REJECTED,
        received_at=sent_at,
        tech_info="The CSMS rejected the charge point's certificate signing request",
    )


def transfer_status(
    cp: str, transfer: str, payload: dict[str, Any], at: datetime
) -> TransferStatus | None:
    """A SignedFirmwareStatusNotification's, LogStatusNotification's or
    DiagnosticsStatusNotification's status; None without."""
    status = _bounded(get_str(payload, "status"), MAX_STATUS)
    if not status:
        return None
    request_id = get_int(payload, "requestId")
    if request_id is not None and not -INT32 <= request_id < INT32:
        request_id = None
    return TransferStatus(cp, transfer, status, at, request_id)
