"""The diagnostics command per OCPP version: GetDiagnostics (1.6), GetLog (2.0.1)."""

from __future__ import annotations

from chargestream.domain.diagnostics_request import (
    DiagnosticsOptions,
    diagnostics_command,
    log_request_id,
)
from chargestream.domain.protocols import OcppVersion
from tests.ocpp201_frames import valid

FILE_ID = "ffffffff" + "0" * 24
LOCATION = "ftp://u:p@csms.example:2121/"


def test_without_options_each_version_sends_the_location_alone() -> None:
    assert diagnostics_command(OcppVersion.V16, LOCATION, FILE_ID, DiagnosticsOptions()) == (
        "GetDiagnostics",
        {"location": LOCATION},
    )
    action, payload = diagnostics_command(OcppVersion.V201, LOCATION, FILE_ID, DiagnosticsOptions())
    assert (action, valid("GetLog", payload)) == (
        "GetLog",
        {"logType": "DiagnosticsLog", "requestId": 2**31 - 1, "log": {"remoteLocation": LOCATION}},
    )


def test_the_request_id_follows_the_file_id() -> None:
    assert log_request_id("0000002a" + "f" * 24) == 42
    assert log_request_id(FILE_ID) == 2**31 - 1
