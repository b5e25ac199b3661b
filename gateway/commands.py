"""Operator commands: a CALL from the CSMS to one charge point, with one outcome.

Every command is validated against the schema of the charge point's OCPP version (its live
connection's, else the version its registration pins, else that of its last connection as
derived, else any version that has the action; the gateway checks the live connection
again) before it is sent,
recorded in the command log when requested and again with its outcome, and
ends in exactly one ``CommandOutcome``: also when the dispatch fails in a way
nobody foresaw (``error``) or the request is cancelled while it waits. The log keeps
payloads and answers with their secrets redacted (``domain/redaction.py``); a charge point
password (``AuthorizationKey``) of the wrong length is rejected before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from chargestream.domain.commands import CsmsSend
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import CommandOutcome, CommandRecord
from chargestream.domain.redaction import redact_payload
from chargestream.gateway import metrics, ocppj
from chargestream.gateway.connection import ConnectionLost, NotConnected, Reply, WrongVersion
from chargestream.gateway.rotation import new_password, password_problem
from chargestream.gateway.schemas import PROTOCOLS, SchemaViolation, validate_request
from chargestream.storage.base import Store

log = logging.getLogger("chargestream.commands")

Dispatch = Callable[[str, str, dict[str, Any], float], Awaitable[Reply]]
# the OCPP version of a charge point's live connection here (None: not connected here)
VersionOf = Callable[[str], OcppVersion | None]


class UnknownAction(ValueError):
    """Not an action the central system can send in any OCPP version it speaks."""


class CommandService:
    def __init__(
        self,
        dispatch: Dispatch,
        store: Store,
        *,
        timeout: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        version_of: VersionOf = lambda charge_point_id: None,
    ) -> None:
        self._dispatch = dispatch
        self._version_of = version_of
        self._store = store
        self._timeout = timeout
        self._clock = clock

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: dict[str, Any],
        timeout: float | None = None,
        *,
        sent_by: str | None = None,
    ) -> CommandRecord:
        """``sent_by``: who sends it, kept in the command log (see CommandRecord).

        An action of another version than the charge point's is REJECTED, unsent."""
        versions = versions_with(action)
        if not versions:
            raise UnknownAction(action)
        version = await self.version(charge_point_id)
        record = CommandRecord(
            command_id=uuid.uuid4().hex,
            charge_point_id=charge_point_id,
            action=action,
            payload=redact_payload(payload),
            requested_at=self._clock(),
            sent_by=sent_by,
        )
        unwritable = _unwritable(payload)
        if unwritable is not None:  # no frame can carry it, no store keep it: logged empty
            return await self._finish(
                replace(record, payload={}),
                CommandOutcome.REJECTED,
                error=f"FormationViolation: not writable as OCPP-J JSON ({unwritable})",
            )
        if version is not None and version not in versions:
            return await self._finish(
                record, CommandOutcome.REJECTED, error=str(WrongVersion(action, version))
            )
        violation = payload_violation(action, payload, [version] if version else versions)
        if violation is not None:
            return await self._finish(
                record, CommandOutcome.REJECTED, error=f"{violation.error_code}: {violation}"
            )
        password = new_password(action, payload)
        if password is not None:
            problem = password_problem(password)
            if problem is None and await self._store.get_registration(charge_point_id) is None:
                problem = "register the charge point before setting its password"
            if problem is not None:
                return await self._finish(record, CommandOutcome.REJECTED, error=problem)
        await self._store.record_command(record)
        try:
            reply = await self._dispatch(charge_point_id, action, payload, timeout or self._timeout)
        except NotConnected:
            return await self._finish(record, CommandOutcome.NOT_CONNECTED, error="not connected")
        except WrongVersion as wrong:  # it reconnected with another version: nothing sent
            return await self._finish(record, CommandOutcome.REJECTED, error=str(wrong))
        except ConnectionLost:
            return await self._finish(
                record,
                CommandOutcome.CONNECTION_LOST,
                error="sent; the connection closed before the charge point answered",
            )
        except TimeoutError:
            return await self._finish(record, CommandOutcome.TIMED_OUT, error="no answer in time")
        except asyncio.CancelledError:  # the caller went away: the log still gets an outcome
            await asyncio.shield(
                self._finish(record, CommandOutcome.ERROR, error="cancelled before an answer")
            )
            raise
        except Exception as failure:  # a failure nobody foresaw must not leave it open
            log.exception(
                "command_dispatch_failed",
                extra={"fields": {"cp": charge_point_id, "command_id": record.command_id}},
            )
            return await self._finish(
                record,
                CommandOutcome.ERROR,
                error=f"the CSMS failed ({type(failure).__name__}); the charge point may or may"
                " not have got it",
            )
        if isinstance(reply.message, ocppj.CallError):
            error = reply.message
            return await self._finish(
                record,
                CommandOutcome.FAILED,
                error=f"{error.error_code}: {error.description}",
                response=error.details if isinstance(error.details, dict) else None,
            )
        response = reply.message.payload if isinstance(reply.message.payload, dict) else {}
        return await self._finish(record, CommandOutcome.ANSWERED, response=response)

    async def version(self, charge_point_id: str) -> OcppVersion | None:
        """The charge point's OCPP version: of its live connection here, else the one its
        registration pins, else the one of its last connection as derived; None: unknown
        (a gateway elsewhere checks)."""
        live = self._version_of(charge_point_id)
        if live is not None:
            return live
        registration = await self._store.get_registration(charge_point_id)
        if registration is not None and registration.ocpp_version is not None:
            return registration.ocpp_version
        state = await self._store.get_charge_point_state(charge_point_id)
        return state.ocpp_version if state is not None else None

    async def _finish(
        self,
        record: CommandRecord,
        outcome: CommandOutcome,
        *,
        error: str | None = None,
        response: dict[str, Any] | None = None,
    ) -> CommandRecord:
        done = replace(
            record,
            outcome=outcome,
            error=error,
            response=redact_payload(response),
            completed_at=self._clock(),
        )
        await self._store.record_command(done)
        metrics.COMMANDS.labels(outcome.value).inc()
        log.info(
            "command",
            extra={
                "fields": {
                    "cp": record.charge_point_id,
                    "action": record.action,
                    "outcome": outcome.value,
                    "command_id": record.command_id,
                    "sent_by": record.sent_by,
                    "error": error,
                }
            },
        )
        return done


def csms_sender(service: CommandService) -> CsmsSend:
    """Send commands the CSMS itself initiates (``sent_by="csms"``), e.g. CertificateSigned;
    a controller may name itself instead (a firmware campaign: ``campaign:<id>``)."""

    async def send(
        charge_point_id: str, action: str, payload: dict[str, Any], *, sent_by: str = "csms"
    ) -> object:
        return await service.send(charge_point_id, action, payload, sent_by=sent_by)

    return send


def versions_with(action: str) -> list[OcppVersion]:
    """The OCPP versions in which the CSMS may send ``action``."""
    return [version for version, spec in PROTOCOLS.items() if action in spec.csms_actions]


def payload_violation(
    action: str, payload: dict[str, Any], versions: list[OcppVersion]
) -> SchemaViolation | None:
    """None if the payload is valid in one of ``versions`` (the charge point's, or those
    with the action when its version is unknown here), else the first version's violation."""
    violations = []
    for version in versions:
        try:
            validate_request(action, payload, version)
        except SchemaViolation as violation:
            violations.append(violation)
        else:
            return None
    return violations[0]


def _unwritable(payload: dict[str, Any]) -> str | None:
    """Why the payload cannot be the JSON of an OCPP-J frame (a lone surrogate, an integer
    beyond 64 bits, nesting too deep), or None; the reason names no value."""
    try:
        orjson.dumps(payload)
    except orjson.JSONEncodeError as error:
        return str(error)
    return None
