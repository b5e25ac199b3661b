"""OCPP 2.0.1 request payloads for tests, each checked against the official schema.

Every builder returns a payload the ``ocpp`` package's v201 JSON schema accepts, so tests
derive from frames a real charging station could send.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

_SCHEMAS = Path(ocpp.__file__).parent / "v201" / "schemas"


@functools.cache
def _validator(schema: str) -> Any:
    return fastjsonschema.compile(json.loads((_SCHEMAS / f"{schema}.json").read_text()))


def valid_as(schema: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as sent, after the 2.0.1 schema ``schema`` (e.g. NotifyReportRequest)
    accepted it."""
    _validator(schema)(json.loads(json.dumps(payload)))  # a copy: the validator fills defaults
    return payload


def valid(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as sent, after the schema of ``action``'s request accepted it."""
    return valid_as(f"{action}Request", payload)


def boot(vendor: str = "Alfen", model: str = "Eve", **station: Any) -> dict[str, Any]:
    return valid(
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"vendorName": vendor, "model": model, **station}},
    )


def status(evse: int, connector: int, state: str, timestamp: str) -> dict[str, Any]:
    return valid(
        "StatusNotification",
        {
            "timestamp": timestamp,
            "connectorStatus": state,
            "evseId": evse,
            "connectorId": connector,
        },
    )


def sample(
    timestamp: str,
    wh: float | None = None,
    watts: float | None = None,
    soc: float | None = None,
    context: str = "Sample.Periodic",
) -> dict[str, Any]:
    """One ``meterValue`` element: energy register, active power, state of charge."""
    values = []
    if wh is not None:
        values.append(
            {
                "value": wh / 1000,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh", "multiplier": 3},
            }
        )
    if watts is not None:
        values.append({"value": watts, "context": context, "measurand": "Power.Active.Import"})
    if soc is not None:
        values.append(
            {
                "value": soc,
                "context": context,
                "measurand": "SoC",
                "unitOfMeasure": {"unit": "Percent"},
            }
        )
    return {"timestamp": timestamp, "sampledValue": values}


def transaction_event(
    event_type: str,
    transaction_id: str,
    seq_no: int,
    timestamp: str,
    *,
    trigger: str = "MeterValuePeriodic",
    samples: tuple[dict[str, Any], ...] = (),
    evse: tuple[int, int] | None = None,
    id_token: str | None = None,
    charging_state: str | None = None,
    stopped_reason: str | None = None,
    offline: bool = False,
) -> dict[str, Any]:
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": timestamp,
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
    }
    if offline:
        payload["offline"] = True
    if evse is not None:
        payload["evse"] = {"id": evse[0], "connectorId": evse[1]}
    if id_token is not None:
        payload["idToken"] = {"idToken": id_token, "type": "ISO14443"}
    if samples:
        payload["meterValue"] = list(samples)
    return valid("TransactionEvent", payload)
