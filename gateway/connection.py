"""One charge point's WebSocket: receive, validate, record, answer.

Frames of one connection are processed in arrival order; a charge point
that sends a new CALL before the previous one was answered simply waits
for both answers in order. A CALL and the answer it gets are logged as one
event, durably, before the answer is sent (ADR 0002, ADR 0010).

CALLs beyond the connection's rate (``calls_per_second``, bursts of
``CALL_BURST_SECONDS`` worth) are answered with a ``GenericError`` CALLERROR and logged;
the connection stays. Frames the gateway refuses (not OCPP-J, too large, from a charge
point that is not accepted, beyond the rate) are logged as a copy of at most
``refused_frame_bytes`` bytes with their size and SHA-256 digest.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.redaction import redact_frame
from chargestream.eventlog.base import EventLog, EventLogUnavailable
from chargestream.gateway import metrics, ocppj
from chargestream.gateway.admission import Admission
from chargestream.gateway.dispatch import (
    SECURITY_ERROR,
    answer_call,
    rate_limited,
    read_frame,
    stored_copy,
)
from chargestream.gateway.handlers import CallContext, CentralSystem
from chargestream.gateway.limits import TokenBucket
from chargestream.gateway.schemas import protocol

log = logging.getLogger("chargestream.gateway")

CALL_BURST_SECONDS = 5  # a connection may send this many seconds' worth of CALLs at once
RATE_LOG_EVERY = 10.0  # seconds between two rate_limited log lines of one connection


class NotConnected(RuntimeError):
    """The charge point is not (or no longer) connected to this gateway: nothing was sent."""


class ConnectionLost(RuntimeError):
    """The CALL was sent, then the connection closed before the charge point answered."""


class WrongVersion(ValueError):
    """The CSMS cannot send this action in the OCPP version of the charge point's connection:
    nothing was sent."""

    def __init__(self, action: str, version: OcppVersion) -> None:
        super().__init__(f"{action} is not an action of OCPP {version.label}")
        self.action = action
        self.version = version


@dataclass(frozen=True, slots=True)
class Reply:
    """What a charge point answered to a CALL the gateway sent."""

    message: ocppj.CallResult | ocppj.CallError


class Connection:
    def __init__(
        self,
        charge_point_id: str,
        websocket: ServerConnection,
        event_log: EventLog,
        central: CentralSystem,
        *,
        node: str,
        lenient: bool,
        max_frame_bytes: int,
        calls_per_second: int = 0,
        refused_frame_bytes: int = 1024,
        version: OcppVersion = OcppVersion.V16,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.charge_point_id = charge_point_id
        self.connection_id = uuid.uuid4().hex[:16]
        self.version = version  # chosen at the handshake; every event records it
        self._protocol = protocol(version)
        self.websocket = websocket
        self._log = event_log
        self._central = central
        self._node = node
        self._lenient = lenient
        self._max_frame_bytes = max_frame_bytes
        self._clock = clock
        self._monotonic = monotonic
        self._calls_per_second = calls_per_second
        self._calls = TokenBucket(
            calls_per_second, calls_per_second * CALL_BURST_SECONDS, monotonic()
        )
        self._rate_logged = -RATE_LOG_EVERY
        self._refused_frame_bytes = refused_frame_bytes
        self.admission = Admission()
        self._sequence = 0
        self._awaiting: dict[str, tuple[str, asyncio.Future[Reply]]] = {}
        self._send_lock = asyncio.Lock()
        self._after_reply: set[asyncio.Task[None]] = set()  # started by answered CALLs
        self.disconnect_recorded = False

    # -- events

    def event(
        self,
        kind: EventKind,
        frame: str,
        direction: Direction | None = None,
        message_type: MessageType | None = None,
        message_id: str | None = None,
        action: str | None = None,
        answer: str | None = None,
    ) -> FrameEvent:
        """The event to log, with the answer sent to it if any; secrets are redacted (the
        socket gets the real frames)."""
        event = FrameEvent(
            charge_point_id=self.charge_point_id,
            kind=kind,
            frame=redact_frame(frame) if kind is EventKind.FRAME else frame,
            node=self._node,
            connection_id=self.connection_id,
            sequence=self._sequence,
            received_us=time.time_ns() // 1000,
            direction=direction,
            message_type=message_type,
            message_id=message_id,
            action=action,
            ocpp_version=self.version,
            answer=None if answer is None else redact_frame(answer),
        )
        self._sequence += 1
        return event

    def lifecycle_event(self, kind: EventKind, **details: Any) -> FrameEvent:
        return self.event(kind, orjson.dumps(details).decode())

    def abandon_calls(self) -> None:
        """The connection is gone: CALLs still waiting for an answer will get none."""
        for _, future in self._awaiting.values():
            if not future.done():
                future.set_exception(NotConnected(self.charge_point_id))

    async def record_disconnect(self, **details: Any) -> None:
        if self.disconnect_recorded:
            return
        self.disconnect_recorded = True
        self.abandon_calls()
        await self._log.append([self.lifecycle_event(EventKind.DISCONNECTED, **details)])

    # -- receiving

    async def serve(self) -> None:
        """Process frames until the socket closes."""
        try:
            async for frame in self.websocket:
                if self.disconnect_recorded:  # replaced by a newer connection
                    break
                started = time.perf_counter()
                raw = None if isinstance(frame, str) else bytes(frame)
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                metrics.FRAMES_IN.inc()
                try:
                    answered = await self._receive(text, raw)
                except EventLogUnavailable as error:
                    metrics.LOG_FAILURES.inc()
                    log.error(
                        "frame_not_stored",
                        extra={"fields": {"cp": self.charge_point_id, "error": str(error)}},
                    )
                    continue
                if answered:
                    metrics.CALL_SECONDS.observe(time.perf_counter() - started)
        except ConnectionClosed:
            pass

    async def _receive(self, text: str, raw: bytes | None = None) -> bool:
        """Handle one frame (``raw``: its bytes if it was binary); True if answered."""
        message = read_frame(
            text,
            binary=raw is not None,
            max_frame_bytes=self._max_frame_bytes,
            version=self.version,
        )
        if isinstance(message, ocppj.Call):
            await self._receive_call(text, message)
            return True
        if isinstance(message, ocppj.CallResult | ocppj.CallError):
            await self._receive_reply(text, message)
            return False
        return await self._receive_fault(text, message, raw)

    async def _receive_call(self, text: str, call: ocppj.Call) -> None:
        known = call.action in self._protocol.all_actions
        metrics.calls(call.action if known else "other").inc()
        wait = self._calls.take(self._monotonic())
        context = CallContext(self.charge_point_id, self._clock())
        if wait > 0:
            answer = rate_limited(call, self.charge_point_id, self._calls_per_second, wait)
            self._log_rate_limited(call)
        else:
            answer = await answer_call(
                self._central,
                call,
                context,
                lenient=self._lenient,
                admission=self.admission,
                version=self.version,
            )
        if wait > 0 or _is_refusal(answer):
            text = stored_copy(text, self._refused_frame_bytes)
        action = call.action if known else call.action[:64]  # metadata stays small
        exchange = self.event(
            EventKind.FRAME, text, Direction.IN, MessageType.CALL, call.message_id, action, answer
        )
        await self._log.append([exchange])
        await self._send(answer)
        for after in context.after_reply:  # e.g. CertificateSigned after SignCertificate
            task = asyncio.create_task(after())
            self._after_reply.add(task)
            task.add_done_callback(self._after_reply.discard)

    def _log_rate_limited(self, call: ocppj.Call) -> None:
        now = self._monotonic()
        if now - self._rate_logged < RATE_LOG_EVERY:
            return
        self._rate_logged = now
        log.warning(
            "rate_limited",
            extra={
                "fields": {
                    "cp": self.charge_point_id,
                    "action": call.action[:64],
                    "calls_per_second": self._calls_per_second,
                }
            },
        )

    async def _receive_reply(self, text: str, reply: ocppj.CallResult | ocppj.CallError) -> None:
        waiting = self._awaiting.pop(reply.message_id, None)
        message_type = (
            MessageType.CALLRESULT if isinstance(reply, ocppj.CallResult) else MessageType.CALLERROR
        )
        action = waiting[0] if waiting else None
        event = self.event(
            EventKind.FRAME, text, Direction.IN, message_type, reply.message_id, action
        )
        await self._log.append([event])
        if waiting is None:
            metrics.UNMATCHED_RESULTS.inc()
            log.info(
                "unmatched_reply",
                extra={"fields": {"cp": self.charge_point_id, "message_id": reply.message_id}},
            )
        elif not waiting[1].done():
            waiting[1].set_result(Reply(reply))

    async def _receive_fault(
        self, text: str, fault: ocppj.ProtocolFault, raw: bytes | None = None
    ) -> bool:
        stored = stored_copy(text, self._refused_frame_bytes, raw)
        answer = None
        if fault.answer:
            metrics.CALL_ERRORS.labels(fault.error_code).inc()
            message_id = fault.message_id or "-1"
            answer = ocppj.call_error(message_id, fault.error_code, fault.description)
        event = self.event(
            EventKind.FRAME, stored, Direction.IN, message_id=fault.message_id, answer=answer
        )
        log.info(
            "bad_frame",
            extra={
                "fields": {
                    "cp": self.charge_point_id,
                    "error_code": fault.error_code,
                    "error": fault.description,
                }
            },
        )
        await self._log.append([event])
        if answer is not None:
            await self._send(answer)
        return answer is not None

    async def _send(self, text: str) -> None:
        metrics.FRAMES_OUT.inc()
        async with self._send_lock:
            await self.websocket.send(text)

    # -- calling the charge point

    async def call(self, action: str, payload: dict[str, Any], timeout: float) -> Reply:
        """Send a CALL and wait for its answer.

        Raises WrongVersion if ``action`` is not one the CSMS sends in the connection's
        version, NotConnected if it was not sent, ConnectionLost if it was sent and the
        connection closed before the answer, TimeoutError if no answer came in time.
        A TriggerMessage lets a charge point that is not yet accepted send what it asks for
        (``Admission``) unless the charge point does not accept it.
        """
        if action not in self._protocol.csms_actions:
            raise WrongVersion(action, self.version)
        if self.disconnect_recorded:
            raise NotConnected(self.charge_point_id)
        message_id = str(uuid.uuid4())
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._awaiting[message_id] = (action, future)
        text = ocppj.call(message_id, action, payload)
        triggered = self.admission.expect(action, payload)
        accepted = False
        try:
            await self._log.append(
                [
                    self.event(
                        EventKind.FRAME, text, Direction.OUT, MessageType.CALL, message_id, action
                    )
                ]
            )
            try:
                await self._send(text)
            except ConnectionClosed:
                raise NotConnected(self.charge_point_id) from None
            try:
                reply = await asyncio.wait_for(future, timeout)
            except NotConnected:
                raise ConnectionLost(self.charge_point_id) from None
            accepted = _accepted(reply)
            return reply
        finally:
            self._awaiting.pop(message_id, None)
            if triggered is not None and not accepted:
                self.admission.withdraw(triggered)


def _is_refusal(answer: str) -> bool:
    """A CALLERROR refusing a charge point that is not accepted."""
    if not answer.startswith("[4"):
        return False
    frame = orjson.loads(answer)
    return len(frame) > 2 and frame[2] == SECURITY_ERROR


def _accepted(reply: Reply) -> bool:
    payload = reply.message.payload if isinstance(reply.message, ocppj.CallResult) else None
    return isinstance(payload, dict) and payload.get("status") == "Accepted"
