"""A command as a ``CommandRequest`` and its ``CommandReply``, whatever carries them: the
stack's Kafka topics (``gateway/remote.py``) or the embedded derivation process's channel
(``app/derivation_process.py``). Nothing here needs Kafka, so the embedded mode runs
without the stack's packages.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from chargestream.domain.commands import (
    CallFailure,
    CommandReply,
    CommandRequest,
    MalformedCommand,
    ReplyKind,
)
from chargestream.gateway import ocppj
from chargestream.gateway.connection import ConnectionLost, NotConnected, Reply, WrongVersion

log = logging.getLogger("chargestream.commands")

Call = Callable[[str, str, dict[str, Any], float], Any]


async def execute(call: Call, request: CommandRequest) -> CommandReply | None:
    """Send ``request``'s CALL through ``call`` (this node's gateway); its reply, or None
    when the requester times out by itself (the deadline passed, or the CALL failed)."""
    remaining = request.deadline - time.time()
    if remaining <= 0:
        return None  # the requester has already timed out
    try:
        reply = await call(request.charge_point_id, request.action, request.payload, remaining)
    except NotConnected:
        return CommandReply(request.command_id, ReplyKind.NOT_CONNECTED)
    except ConnectionLost:
        return CommandReply(request.command_id, ReplyKind.CONNECTION_LOST)
    except WrongVersion as wrong:  # not sent: the charge point speaks another version
        failure = CallFailure("NotSupported", str(wrong), {})
        return CommandReply(request.command_id, ReplyKind.ERROR, failure=failure)
    except TimeoutError:
        return None
    except Exception:  # the requester times out; the node says why
        log.exception(
            "command_failed",
            extra={"fields": {"cp": request.charge_point_id, "command_id": request.command_id}},
        )
        return None
    return _answer(request.command_id, reply.message)


def _answer(command_id: str, message: ocppj.CallResult | ocppj.CallError) -> CommandReply:
    """The reply carrying a charge point's answer."""
    if isinstance(message, ocppj.CallError):
        failure = CallFailure(message.error_code, message.description, message.details)
        return CommandReply(command_id, ReplyKind.ERROR, failure=failure)
    return CommandReply(command_id, ReplyKind.RESULT, payload=message.payload)


class Requester:
    """A requester's side of a command path, whatever carries the messages: each command
    sent as a ``CommandRequest`` and awaited until its ``CommandReply`` or its timeout."""

    def __init__(self, requester: str) -> None:
        self._requester = requester
        self._waiting: dict[str, asyncio.Future[CommandReply]] = {}

    async def send(
        self,
        charge_point_id: str,
        action: str,
        payload: dict[str, Any],
        timeout: float,
        deliver: Callable[[bytes], Awaitable[object]],
    ) -> Reply:
        """``deliver`` the request's bytes to the node holding the charge point, then wait."""
        request = CommandRequest(
            command_id=uuid.uuid4().hex,
            charge_point_id=charge_point_id,
            action=action,
            payload=payload,
            reply_to=self._requester,
            deadline=time.time() + timeout,
        )
        future: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()
        self._waiting[request.command_id] = future
        try:
            await deliver(request.to_bytes())
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(request.command_id, None)
        return _reply_of(request, answer)

    def received(self, value: bytes) -> None:
        """A reply arrived: its command, if still waiting, has its answer."""
        try:
            answer = CommandReply.from_bytes(value)
        except MalformedCommand as error:  # its command times out
            log.warning("command_reply_malformed", extra={"fields": {"error": str(error)}})
            return
        future = self._waiting.get(answer.command_id)
        if future is not None and not future.done():
            future.set_result(answer)


def _reply_of(request: CommandRequest, answer: CommandReply) -> Reply:
    """What the requester's dispatch returns (or raises) for ``answer``."""
    if answer.kind is ReplyKind.NOT_CONNECTED:
        raise NotConnected(request.charge_point_id)
    if answer.kind is ReplyKind.CONNECTION_LOST:
        raise ConnectionLost(request.charge_point_id)
    if answer.failure is not None:
        failure = answer.failure
        return Reply(
            ocppj.CallError(request.command_id, failure.code, failure.description, failure.details)
        )
    return Reply(ocppj.CallResult(request.command_id, answer.payload))
