"""Answers to the CALLs an OCPP 2.0.1 charging station sends.

Registered per version (``@on(action, V201)``) on the same ``CentralSystem`` as 1.6: where
2.0.1 answers like 1.6 (BootNotification with the registration policy and its Pending
flow, Heartbeat, DataTransfer, SignCertificate through the CA, notifications) the 1.6
handler is registered again; id tokens are looked up as the id tags of 1.6 and answered
as ``idTokenInfo``. Features the CSMS does not offer are answered as the specification
allows (docs/protocols.md): no ISO 15118 certificate service (``Failed``), no EV charging
needs negotiation (``Rejected``).
"""

from __future__ import annotations

from datetime import datetime

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import IdTag
from chargestream.gateway.handlers import CallContext, CentralSystem, Payload, id_tag_info, on

V201 = OcppVersion.V201

# 2.0.1 answers these exactly as 1.6 does
for _action, _handler in (
    ("BootNotification", CentralSystem.boot_notification),
    ("Heartbeat", CentralSystem.heartbeat),
    ("DataTransfer", CentralSystem.data_transfer),
    ("SignCertificate", CentralSystem.sign_certificate),
):
    on(_action, V201)(_handler)

# Notifications: recorded in the event log (derivation reads them), answered empty
for _action in (
    "ClearedChargingLimit",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "StatusNotification",
):
    on(_action, V201)(CentralSystem.acknowledge)


def id_token_info(tag: IdTag | None, now: datetime, accept_unknown: bool) -> Payload:
    """The 2.0.1 ``idTokenInfo`` of an id token: the 1.6 rules (status, expiry, parent)
    in 2.0.1 names (``cacheExpiryDateTime``, ``groupIdToken``)."""
    legacy = id_tag_info(tag, now, accept_unknown)
    info: Payload = {"status": legacy["status"]}
    if "expiryDate" in legacy:
        info["cacheExpiryDateTime"] = legacy["expiryDate"]
    if "parentIdTag" in legacy:
        info["groupIdToken"] = {"idToken": legacy["parentIdTag"], "type": "Central"}
    return info


async def _id_token_info(central: CentralSystem, id_token: Payload, now: datetime) -> Payload:
    tag = await central.id_tag(id_token["idToken"])
    return id_token_info(tag, now, central.settings.accept_unknown_id_tags)


@on("Authorize", V201)
async def authorize(central: CentralSystem, context: CallContext, payload: Payload) -> Payload:
    return {"idTokenInfo": await _id_token_info(central, payload["idToken"], context.now)}


@on("TransactionEvent", V201)
async def transaction_event(
    central: CentralSystem, context: CallContext, payload: Payload
) -> Payload:
    """Always answered (the event is in the log); ``idTokenInfo`` when the event carries an
    id token and the store can be asked. Sessions are derived from the log (streams/)."""
    id_token = payload.get("idToken")
    if id_token is None:
        return {}
    info = await central.id_tag_info_if_known(
        context.charge_point_id, lambda: _id_token_info(central, id_token, context.now)
    )
    return {} if info is None else {"idTokenInfo": info}


@on("NotifyEVChargingNeeds", V201)
async def notify_ev_charging_needs(
    central: CentralSystem, context: CallContext, payload: Payload
) -> Payload:
    """The CSMS does not negotiate ISO 15118 charging schedules."""
    return {"status": "Rejected", "statusInfo": {"reasonCode": "NotSupported"}}


@on("NotifyEVChargingSchedule", V201)
async def notify_ev_charging_schedule(
    central: CentralSystem, context: CallContext, payload: Payload
) -> Payload:
    """Recorded; Accepted means processed, not approved (the schedule is the EV's)."""
    return {"status": "Accepted"}


@on("Get15118EVCertificate", V201)
async def get_15118_ev_certificate(
    central: CentralSystem, context: CallContext, payload: Payload
) -> Payload:
    """No ISO 15118 contract certificate service: Failed, with an empty EXI response."""
    return {"status": "Failed", "exiResponse": "", "statusInfo": _not_offered()}


@on("GetCertificateStatus", V201)
async def get_certificate_status(
    central: CentralSystem, context: CallContext, payload: Payload
) -> Payload:
    """No OCSP responder behind the CSMS: Failed."""
    return {"status": "Failed", "statusInfo": _not_offered()}


def _not_offered() -> Payload:
    return {"reasonCode": "NotSupported", "additionalInfo": "not offered by this CSMS"}
