"""The OCPP 1.6 configuration keys a simulated charge point knows.

Stations keep only the values a CSMS changed; everything else comes from
this shared table. HeartbeatInterval, MeterValueSampleInterval and
NumberOfConnectors are live values the station reports itself.
"""

from __future__ import annotations

from dataclasses import dataclass

LIVE_KEYS = frozenset({"HeartbeatInterval", "MeterValueSampleInterval", "NumberOfConnectors"})

MEASURANDS = (
    "Current.Import",
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "SoC",
    "Voltage",
    "Current.Offered",
    "Power.Offered",
    "Temperature",
)


@dataclass(frozen=True, slots=True)
class Key:
    readonly: bool
    kind: type  # int, bool or str: what a new value must parse as
    default: str = ""


KEYS = {
    "AuthorizeRemoteTxRequests": Key(False, bool, "false"),
    "ClockAlignedDataInterval": Key(False, int, "0"),
    "ConnectionTimeOut": Key(False, int, "60"),
    "ConnectorPhaseRotation": Key(False, str, "NotApplicable"),
    "GetConfigurationMaxKeys": Key(True, int, "50"),
    "HeartbeatInterval": Key(False, int),
    "LocalAuthorizeOffline": Key(False, bool, "true"),
    "LocalPreAuthorize": Key(False, bool, "false"),
    "MeterValueSampleInterval": Key(False, int),
    "MeterValuesAlignedData": Key(False, str, "Energy.Active.Import.Register"),
    "MeterValuesSampledData": Key(False, str, ",".join(MEASURANDS)),
    "NumberOfConnectors": Key(True, int),
    "ResetRetries": Key(False, int, "1"),
    "StopTransactionOnEVSideDisconnect": Key(False, bool, "true"),
    "StopTransactionOnInvalidId": Key(False, bool, "true"),
    "StopTxnAlignedData": Key(False, str),
    "StopTxnSampledData": Key(False, str),
    "SupportedFeatureProfiles": Key(True, str, "Core,RemoteTrigger"),
    "TransactionMessageAttempts": Key(False, int, "3"),
    "TransactionMessageRetryInterval": Key(False, int, "60"),
    "UnlockConnectorOnEVSideDisconnect": Key(False, bool, "true"),
    "WebSocketPingInterval": Key(False, int, "0"),
}


def check_change(key: str, value: str) -> str:
    """ChangeConfiguration.conf status for setting ``key`` to ``value``."""
    spec = KEYS.get(key)
    if spec is None:
        return "NotSupported"
    if spec.readonly:
        return "Rejected"
    if spec.kind is int and not (value.isdigit() and value.isascii()):
        return "Rejected"
    if spec.kind is bool and value.lower() not in ("true", "false"):
        return "Rejected"
    return "Accepted"


# An OCPP 2.0.1 station's device model variables (component, variable) of those keys: a
# 2.0.1 station answers GetVariables and SetVariables for them from the same values.
VARIABLES = {
    ("AlignedDataCtrlr", "Interval"): "ClockAlignedDataInterval",
    ("AlignedDataCtrlr", "Measurands"): "MeterValuesAlignedData",
    ("AuthCtrlr", "AuthorizeRemoteStart"): "AuthorizeRemoteTxRequests",
    ("AuthCtrlr", "LocalAuthorizeOffline"): "LocalAuthorizeOffline",
    ("AuthCtrlr", "LocalPreAuthorize"): "LocalPreAuthorize",
    ("OCPPCommCtrlr", "HeartbeatInterval"): "HeartbeatInterval",
    ("OCPPCommCtrlr", "ResetRetries"): "ResetRetries",
    ("OCPPCommCtrlr", "WebSocketPingInterval"): "WebSocketPingInterval",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "MeterValueSampleInterval",
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): "MeterValuesSampledData",
    ("TxCtrlr", "EVConnectionTimeOut"): "ConnectionTimeOut",
    ("TxCtrlr", "StopTxOnEVSideDisconnect"): "StopTransactionOnEVSideDisconnect",
    ("TxCtrlr", "StopTxOnInvalidId"): "StopTransactionOnInvalidId",
}
COMPONENTS = frozenset(component for component, _ in VARIABLES)
