"""Answers to the CALLs a charge point sends, one handler per OCPP action.

Handlers read what they need (registration, id tags, a transactionId) and
return the CALLRESULT payload. They never derive views: that is the stream
processors' job, from the event log.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chargestream.domain.commands import SendCommand
from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.pki import CsrRejected
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import IdTag, IdTagStatus, Registration, RegistrationPolicy
from chargestream.domain.settings import Settings
from chargestream.gateway import metrics
from chargestream.gateway.admission import Standing
from chargestream.gateway.directory import Directory
from chargestream.gateway.security import authenticated
from chargestream.gateway.signer import CertificateSigner
from chargestream.storage.base import Store, StoreUnavailable

Payload = dict[str, Any]

log = logging.getLogger("chargestream.gateway")


AfterReply = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class CallContext:
    charge_point_id: str
    now: datetime
    # what a handler wants done once its answer has been sent (the connection starts each)
    after_reply: list[AfterReply] = field(default_factory=list)


Handler = Callable[["CentralSystem", CallContext, Payload], Awaitable[Payload]]
_ROUTES: dict[tuple[str, OcppVersion], Handler] = {}
REMEMBERED_STOPS = 10_000  # per process: (cp, transactionId) of the last answered stops
# One CSR a charge point may have checked and signed per this many seconds (per process):
# signing costs CPU, and a charger asks again only when its certificate nears its end.
CSR_INTERVAL = timedelta(seconds=60)
REMEMBERED_SIGNINGS = 10_000  # per process: the charge points whose last CSR is remembered


def on(action: str, version: OcppVersion = OcppVersion.V16) -> Callable[[Handler], Handler]:
    """Route CALLs of ``action`` on connections of ``version`` to the decorated handler
    (2.0.1 handlers: gateway/handlers_v201.py)."""

    def register(handler: Handler) -> Handler:
        _ROUTES[(action, version)] = handler
        return handler

    return register


def _text(value: Any) -> str | None:
    return value[:64] if isinstance(value, str) else None


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


async def _deliver_certificate(send: SendCommand, charge_point_id: str, chain: str) -> None:
    """CertificateSigned with the signed chain; its outcome is in the command log."""
    try:
        await send(charge_point_id, "CertificateSigned", {"certificateChain": chain})
    except Exception:  # a task nobody awaits: say what failed
        log.exception("certificate_not_sent", extra={"fields": {"cp": charge_point_id}})


class CentralSystem:
    """The charge-point-initiated half of OCPP, as the CSMS answers it (1.6 here, 2.0.1 in
    gateway/handlers_v201.py; the rules both follow are methods here)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        directory: Directory,
        signer: CertificateSigner | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.directory = directory
        self.signer = signer or CertificateSigner()
        # sends a CSMS-initiated command (CertificateSigned); wired by the composition root
        self.send_command: SendCommand | None = None
        # (cp, transactionId) -> (timestamp, reason) of the first stop answered here
        self._stops: OrderedDict[tuple[str, int], tuple[str | None, str | None]] = OrderedDict()
        self._csr_checked: OrderedDict[str, datetime] = OrderedDict()  # cp -> its last CSR

    def handles(self, action: str, version: OcppVersion = OcppVersion.V16) -> bool:
        return (action, version) in _ROUTES

    async def handle(
        self,
        action: str,
        context: CallContext,
        payload: Payload,
        version: OcppVersion = OcppVersion.V16,
    ) -> Payload:
        return await _ROUTES[(action, version)](self, context, payload)

    async def id_tag(self, id_tag: str) -> IdTag | None:
        """The id tag (1.6) or id token (2.0.1) as the directory knows it."""
        return await self.directory.id_tag(id_tag)

    async def _id_tag_info(self, id_tag: str, now: datetime) -> Payload:
        return id_tag_info(await self.id_tag(id_tag), now, self.settings.accept_unknown_id_tags)

    async def id_tag_info_if_known(
        self, cp: str, info: Callable[[], Awaitable[Payload]]
    ) -> Payload | None:
        """``info()``, or None when the store cannot be asked: the end of a transaction is
        answered whatever the store says (the charge point would retry a failed CALL)."""
        try:
            return await info()
        except StoreUnavailable as error:
            log.warning("id_tag_lookup_failed", extra={"fields": {"cp": cp, "error": repr(error)}})
            return None

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
        """BootNotification's answer; registers the charge point under policy ``accept``."""
        if await self.directory.registration(context.charge_point_id) is not None:
            return Standing.ACCEPTED
        policy = self.settings.registration_policy
        if policy == RegistrationPolicy.ACCEPT:
            await self.directory.register(
                Registration(context.charge_point_id, created_at=context.now)
            )
            return Standing.ACCEPTED
        return Standing.PENDING if policy == RegistrationPolicy.PENDING else Standing.REJECTED

    async def standing(self, charge_point_id: str) -> Standing:
        """Whether the CSMS accepts the charge point now: registered, or policy ``accept``.

        Under ``accept`` every charge point is accepted (an unknown one is registered by
        its BootNotification), so the store is not asked.
        """
        policy = self.settings.registration_policy
        if policy == RegistrationPolicy.ACCEPT:
            return Standing.ACCEPTED
        if await self.directory.registration(charge_point_id) is not None:
            return Standing.ACCEPTED
        return Standing.PENDING if policy == RegistrationPolicy.PENDING else Standing.REJECTED

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

        A second stop of the same transaction is answered the same way and recorded as a
        deviation (``duplicate_stop_transaction``, a metric); derivation keeps the first.
        """
        await self._check_duplicate_stop(context.charge_point_id, payload)
        if "idTag" not in payload:
            return {}
        info = await self.id_tag_info_if_known(
            context.charge_point_id, lambda: self._id_tag_info(payload["idTag"], context.now)
        )
        return {} if info is None else {"idTagInfo": info}

    async def _check_duplicate_stop(self, cp: str, payload: Payload) -> None:
        transaction_id = payload.get("transactionId")
        if not isinstance(transaction_id, int) or isinstance(transaction_id, bool):
            return
        this = (_text(payload.get("timestamp")), _text(payload.get("reason")))
        key = (cp, transaction_id)
        first = self._stops.get(key)
        if first is None:
            first = await self._stored_stop(cp, transaction_id)
        if first is None:
            self._stops[key] = this
            if len(self._stops) > REMEMBERED_STOPS:
                self._stops.popitem(last=False)
            return
        metrics.DUPLICATE_STOPS.inc()
        log.warning(
            "duplicate_stop_transaction",
            extra={
                "fields": {
                    "cp": cp,
                    "transaction_id": transaction_id,
                    "first_timestamp": first[0],
                    "first_reason": first[1],
                    "timestamp": this[0],
                    "reason": this[1],
                }
            },
        )

    async def _stored_stop(
        self, cp: str, transaction_id: int
    ) -> tuple[str | None, str | None] | None:
        """The stop of a session the store already has as stopped (None: it has not)."""
        if not -(2**63) <= transaction_id < 2**63:  # no store holds it (64-bit signed)
            return None
        try:
            session = await self.store.get_session(transaction_id)
        except StoreUnavailable:
            return None
        if session is None or session.charge_point_id != cp or session.stop_time is None:
            return None
        return ocpp_time(session.stop_time), session.stop_reason

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
        """Sign the charge point's CSR; the chain follows as CertificateSigned after the answer.

        Only for a charge point that authenticates (profile 1 or higher, or a password):
        on profile 0 anyone may claim any id, and the certificate would let them in as it
        on profile 3. A CSR that is unfit (or no CA, or no way to send the chain, or one
        within CSR_INTERVAL of the charge point's last) is Rejected and logged as
        ``csr_rejected`` with the reason.
        """
        cp = context.charge_point_id
        registration = await self.directory.registration(cp)
        try:
            if not authenticated(registration, self.settings.default_security_profile):
                raise CsrRejected("the charge point does not authenticate (profile 0)")
            if self.send_command is None:
                raise CsrRejected("this process cannot send CertificateSigned")
            self._count_csr(cp, context.now)
            chain = await self.signer.sign(payload["csr"], cp, context.now)
        except CsrRejected as rejected:
            log.warning("csr_rejected", extra={"fields": {"cp": cp, "reason": rejected.reason}})
            return {"status": "Rejected"}
        send = self.send_command
        context.after_reply.append(lambda: _deliver_certificate(send, cp, chain))
        return {"status": "Accepted"}

    def _count_csr(self, cp: str, now: datetime) -> None:
        """CsrRejected if the charge point had a CSR checked less than CSR_INTERVAL ago."""
        last = self._csr_checked.get(cp)
        if last is not None and now - last < CSR_INTERVAL:
            raise CsrRejected(
                f"a CSR of this charge point was checked less than {CSR_INTERVAL.seconds} s ago"
            )
        self._csr_checked[cp] = now
        self._csr_checked.move_to_end(cp)
        if len(self._csr_checked) > REMEMBERED_SIGNINGS:
            self._csr_checked.popitem(last=False)
