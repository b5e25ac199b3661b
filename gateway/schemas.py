"""Compiled validators for the official OCPP JSON schemas, per version.

The schemas ship with the ``ocpp`` package (``ocpp/v16/schemas``, ``ocpp/v201/schemas``);
fastjsonschema turns each into a plain Python function once at start-up (~20x faster than
jsonschema). What differs by version (file names, the actions each side sends, the OCPP-J
error codes) is looked up by the ``OcppVersion``; see docs/protocols.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from chargestream.domain.protocols import OcppVersion

Validator = Callable[[Any], Any]

# Actions a charge point initiates (request validated on receipt), OCPP 1.6.
CHARGE_POINT_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)

# Actions the central system initiates (commands), OCPP 1.6.
CENTRAL_SYSTEM_ACTIONS = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "InstallCertificate",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SignedUpdateFirmware",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

ALL_ACTIONS = CHARGE_POINT_ACTIONS | CENTRAL_SYSTEM_ACTIONS

# Actions a charging station initiates, OCPP 2.0.1.
STATION_ACTIONS_V201 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

# Actions the CSMS initiates, OCPP 2.0.1.
CSMS_ACTIONS_V201 = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)


@dataclass(frozen=True, slots=True)
class VersionRules:
    """What one OCPP version names differently: schema files, actions, error codes."""

    package: str  # the ``ocpp`` subpackage holding ``schemas/``
    request_suffix: str  # schema file of a request: <Action><suffix>.json
    charge_point_actions: frozenset[str]  # sent by the charge point
    csms_actions: frozenset[str]  # sent by the CSMS (commands)
    format_violation: str  # the payload is not a JSON object / not usable
    occurrence_violation: str  # a required field is missing, too few or many items
    framing_error: str  # the frame is no valid OCPP-J message (not JSON, no message id, ...)
    unknown_message_type: str  # the message type number is not one the version has

    @property
    def all_actions(self) -> frozenset[str]:
        return self.charge_point_actions | self.csms_actions

    def error_code(self, code: str) -> str:
        """The code of this version for a code written the 1.6 way (the gateway's default)."""
        return {
            "FormationViolation": self.format_violation,
            "OccurenceConstraintViolation": self.occurrence_violation,
        }.get(code, code)


PROTOCOLS = {
    OcppVersion.V16: VersionRules(
        package="ocpp.v16",
        request_suffix="",
        charge_point_actions=CHARGE_POINT_ACTIONS,
        csms_actions=CENTRAL_SYSTEM_ACTIONS,
        format_violation="FormationViolation",
        occurrence_violation="OccurenceConstraintViolation",
        framing_error="FormationViolation",
        unknown_message_type="ProtocolError",
    ),
    # OCPP-J 2.0.1 (part 4): RpcFrameworkError when the frame is no valid RPC message,
    # MessageTypeNotSupported for a message type number other than 2, 3, 4. CALLRESULTERROR
    # (type 5) and SEND (6) belong to OCPP 2.1, so a 2.0.1 connection refuses them too.
    OcppVersion.V201: VersionRules(
        package="ocpp.v201",
        request_suffix="Request",
        charge_point_actions=STATION_ACTIONS_V201,
        csms_actions=CSMS_ACTIONS_V201,
        format_violation="FormatViolation",
        occurrence_violation="OccurrenceConstraintViolation",
        framing_error="RpcFrameworkError",
        unknown_message_type="MessageTypeNotSupported",
    ),
}


def protocol(version: OcppVersion) -> VersionRules:
    return PROTOCOLS[version]


class SchemaViolation(ValueError):
    """A payload breaks its schema; ``error_code`` is the OCPP-J error code."""

    def __init__(self, error_code: str, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description


# fastjsonschema rule -> OCPP-J error code (1.6 spelling; VersionRules.error_code renames)
_ERROR_CODES = {
    "required": "OccurenceConstraintViolation",
    "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "minLength": "PropertyConstraintViolation",
    "enum": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
}


@cache
def _validator(version: OcppVersion, name: str) -> Validator:
    package = PROTOCOLS[version].package
    text = resources.files(package).joinpath("schemas", f"{name}.json").read_text("utf-8")
    return fastjsonschema.compile(json.loads(text))


def compile_all() -> None:
    """Compile every validator now, so the first frames pay nothing."""
    for version, spec in PROTOCOLS.items():
        for action in spec.all_actions:
            _validator(version, f"{action}{spec.request_suffix}")
            _validator(version, f"{action}Response")


def validate_request(action: str, payload: Any, version: OcppVersion = OcppVersion.V16) -> None:
    _validate(version, f"{action}{PROTOCOLS[version].request_suffix}", payload)


def validate_response(action: str, payload: Any, version: OcppVersion = OcppVersion.V16) -> None:
    _validate(version, f"{action}Response", payload)


def _validate(version: OcppVersion, name: str, payload: Any) -> None:
    spec = PROTOCOLS[version]
    if not isinstance(payload, dict):
        raise SchemaViolation(spec.format_violation, "payload must be a JSON object")
    try:
        _validator(version, name)(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        code = _ERROR_CODES.get(error.rule or "", "FormationViolation")
        raise SchemaViolation(spec.error_code(code), error.message) from None
