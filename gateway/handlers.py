"""Answers to the CALLs a charge point sends, one handler per OCPP action.

Handlers read what they need (registration, id tags, a transactionId) and
return the CALLRESULT payload. They never derive views: that is the stream
processors' job, from the event log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chargestream.domain.records import IdTag, IdTagStatus, Registration, RegistrationPolicy
from chargestream.domain.settings import Settings
from chargestream.gateway.directory import Directory
from chargestream.storage.base import Store, StoreUnavailable

Payload = dict[str, Any]

log = logging.getLogger("chargestream.gateway")


@dataclass(frozen=True, slots=True)
class CallContext:
    charge_point_id: str
    now: datetime


Handler = Callable[["CentralSystem", CallContext, Payload], Awaitable[Payload]]
_ROUTES: dict[str, Handler] = {}


def on(action: str) -> Callable[[Handler], Handler]:
    """Route CALLs of ``action`` to the decorated handler."""

    def register(handler: Handler) -> Handler:
        _ROUTES[action] = handler
        return handler

    return register


def ocpp_time(moment: datetime) -> str:
    """UTC, milliseconds, ending in Z (some chargers reject '+00:00')."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def id_tag_info(tag: IdTag | None, now: datetime, accept_unknown: bool) -> Payload:
    if tag is None:
        return {"status": IdTagStatus.ACCEPTED if accept_unknown else IdTagStatus.INVALID}
    status = tag.status
    if status == IdTagStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = IdTagStatus.EXPIRED
    info: Payload = {"status": status.value}
    if tag.expiry_date is not None:
        info["expiryDate"] = ocpp_time(tag.expiry_date)
    if tag.parent_id_tag:
        info["parentIdTag"] = tag.parent_id_tag
    return info


class CentralSystem:
    """The charge-point-initiated half of OCPP 1.6, as the CSMS answers it."""

    def __init__(self, settings: Settings, store: Store, directory: Directory) -> None:
        self.settings = settings
        self.store = store
        self.directory = directory

    def handles(self, action: str) -> bool:
        return action in _ROUTES

    async def handle(self, action: str, context: CallContext, payload: Payload) -> Payload:
        return await _ROUTES[action](self, context, payload)

    async def _id_tag_info(self, id_tag: str, now: datetime) -> Payload:
        tag = await self.directory.id_tag(id_tag)
        return id_tag_info(tag, now, self.settings.accept_unknown_id_tags)

    # -- Core profile

    @on("BootNotification")
    async def boot_notification(self, context: CallContext, payload: Payload) -> Payload:
        status = await self.registration_status(context)
        return {
            "status": status,
            "currentTime": ocpp_time(context.now),
            "interval": self.settings.heartbeat_interval,
        }

    async def registration_status(self, context: CallContext) -> str:
        if await self.directory.registration(context.charge_point_id) is not None:
            return "Accepted"
        policy = self.settings.registration_policy
        if policy == RegistrationPolicy.ACCEPT:
            await self.directory.register(
                Registration(context.charge_point_id, created_at=context.now)
            )
            return "Accepted"
        return "Pending" if policy == RegistrationPolicy.PENDING else "Rejected"

    @on("Authorize")
    async def authorize(self, context: CallContext, payload: Payload) -> Payload:
        return {"idTagInfo": await self._id_tag_info(payload["idTag"], context.now)}

    @on("StartTransaction")
    async def start_transaction(self, context: CallContext, payload: Payload) -> Payload:
        start_key = "|".join(
            str(payload.get(field)) for field in ("connectorId", "idTag", "timestamp", "meterStart")
        )
        transaction_id = await self.store.allocate_transaction_id(
            f"{context.charge_point_id}|{start_key}"
        )
        return {
            "transactionId": transaction_id,
            "idTagInfo": await self._id_tag_info(payload["idTag"], context.now),
        }

    @on("StopTransaction")
    async def stop_transaction(self, context: CallContext, payload: Payload) -> Payload:
        """Always answered: the transaction has ended whatever the store says.

        ``idTagInfo`` is optional here, so when the id tag cannot be looked up (the store is
        down) it is left out rather than failing the CALL, which the charge point would
        retry although the stop is already in the log.
        """
        if "idTag" not in payload:
            return {}
        try:
            return {"idTagInfo": await self._id_tag_info(payload["idTag"], context.now)}
        except StoreUnavailable as error:
            log.warning(
                "id_tag_lookup_failed",
                extra={"fields": {"cp": context.charge_point_id, "error": repr(error)}},
            )
            return {}

    @on("Heartbeat")
    async def heartbeat(self, context: CallContext, payload: Payload) -> Payload:
        return {"currentTime": ocpp_time(context.now)}

    @on("MeterValues")
    @on("StatusNotification")
    @on("DiagnosticsStatusNotification")
    @on("FirmwareStatusNotification")
    @on("SecurityEventNotification")
    @on("SignedFirmwareStatusNotification")
    @on("LogStatusNotification")
    async def acknowledge(self, context: CallContext, payload: Payload) -> Payload:
        """Notifications: recorded in the event log, answered with an empty payload."""
        return {}

    @on("DataTransfer")
    async def data_transfer(self, context: CallContext, payload: Payload) -> Payload:
        """Recorded in the event log; no vendor extensions are configured."""
        return {"status": "UnknownVendorId"}

    @on("SignCertificate")
    async def sign_certificate(self, context: CallContext, payload: Payload) -> Payload:
        """No certificate authority is configured (security profile 3 is not offered)."""
        return {"status": "Rejected"}
