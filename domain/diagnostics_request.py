"""The command asking a charge point to upload its diagnostics, per OCPP version.

OCPP 1.6 has GetDiagnostics (``location``, ``startTime``/``stopTime``); 2.0.1 has GetLog
(``logType`` DiagnosticsLog, a ``requestId`` its LogStatusNotifications name, the location
and times inside ``log``). Both get the same one-time upload location and the same retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargestream.domain.protocols import OcppVersion

GET_DIAGNOSTICS = "GetDiagnostics"
GET_LOG = "GetLog"


@dataclass(frozen=True, slots=True)
class DiagnosticsOptions:
    """What the operator may narrow: the period the log covers and how the upload retries."""

    start_time: datetime | None = None
    stop_time: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None  # seconds


def log_request_id(file_id: str) -> int:
    """The GetLog requestId of an upload: from its file id (hex), a non-negative int32, so a
    LogStatusNotification's requestId points at the file."""
    return int(file_id[:8], 16) & 0x7FFFFFFF


def diagnostics_command(
    version: OcppVersion, location: str, file_id: str, options: DiagnosticsOptions
) -> tuple[str, dict[str, Any]]:
    """The action and payload asking for the upload to ``location`` in ``version``."""
    times = {
        name: _ocpp_time(moment)
        for name, moment in (
            ("startTime", options.start_time),
            ("stopTime", options.stop_time),
        )
        if moment is not None
    }
    retries = {
        name: value
        for name, value in (("retries", options.retries), ("retryInterval", options.retry_interval))
        if value is not None
    }
    if version is OcppVersion.V201:
        log: dict[str, Any] = {"remoteLocation": location}
        if "startTime" in times:
            log["oldestTimestamp"] = times["startTime"]
        if "stopTime" in times:
            log["latestTimestamp"] = times["stopTime"]
        payload = {
            "logType": "DiagnosticsLog",
            "requestId": log_request_id(file_id),
            "log": log,
        }
        return GET_LOG, payload | retries
    return GET_DIAGNOSTICS, {"location": location} | times | retries


def _ocpp_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
