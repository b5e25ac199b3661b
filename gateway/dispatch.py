"""From a received text to what the gateway answers: frame limits, validation, routing.

No socket and no log here: ``Connection`` records and sends what these return, so the
whole answer to a CALL can be tested by calling ``answer_call`` with a message and a store.
"""

from __future__ import annotations

import logging

from chargestream.gateway import metrics, ocppj
from chargestream.gateway.handlers import CallContext, CentralSystem
from chargestream.gateway.schemas import CENTRAL_SYSTEM_ACTIONS, SchemaViolation, validate_request

log = logging.getLogger("chargestream.gateway")


def read_frame(
    text: str, *, binary: bool, max_frame_bytes: int
) -> ocppj.Message | ocppj.ProtocolFault:
    """The message a frame holds, or why it cannot be one (binary, too large, malformed)."""
    if binary:
        return ocppj.ProtocolFault(
            ocppj.guess_message_id(text), "FormationViolation", "OCPP-J uses text frames"
        )
    # a character is at most 4 bytes: encode only a text that may be too large
    if len(text) > max_frame_bytes // 4 and len(text.encode()) > max_frame_bytes:
        return ocppj.ProtocolFault(
            ocppj.guess_message_id(text),
            "FormationViolation",
            f"frame exceeds the limit of {max_frame_bytes} bytes",
        )
    return ocppj.parse(text)


async def answer_call(
    central: CentralSystem, call: ocppj.Call, context: CallContext, *, lenient: bool
) -> str:
    """The CALLRESULT or CALLERROR frame that answers ``call``.

    Schema violations are answered with their OCPP-J error code, unless the charge point
    is lenient: then they are counted and logged, and the handler answers.
    """
    cp = context.charge_point_id
    if not central.handles(call.action):
        if call.action in CENTRAL_SYSTEM_ACTIONS:
            return _error(cp, call, "NotSupported", f"{call.action} is sent by the CSMS")
        return _error(cp, call, "NotImplemented", f"unknown action {call.action!r}")
    try:
        validate_request(call.action, call.payload)
    except SchemaViolation as violation:
        if not lenient or not isinstance(call.payload, dict):
            return _error(cp, call, violation.error_code, violation.description)
        metrics.SCHEMA_DEVIATIONS.labels(call.action).inc()
        log.warning(
            "schema_deviation_accepted",
            extra={
                "fields": {
                    "cp": cp,
                    "action": call.action,
                    "error_code": violation.error_code,
                    "error": violation.description,
                }
            },
        )
    try:
        payload = await central.handle(call.action, context, call.payload)
    except (KeyError, TypeError, ValueError) as error:
        return _error(cp, call, "FormationViolation", f"payload not usable: {error}")
    except Exception:  # a handler's bug must cost one CALL, not the connection
        log.exception("handler_failed", extra={"fields": {"cp": cp, "action": call.action}})
        return _error(cp, call, "InternalError", "the CSMS failed to process the CALL")
    return ocppj.call_result(call.message_id, payload)


def _error(cp: str, call: ocppj.Call, code: str, description: str) -> str:
    metrics.CALL_ERRORS.labels(code).inc()
    log.info(
        "call_rejected",
        extra={
            "fields": {"cp": cp, "action": call.action, "error_code": code, "error": description}
        },
    )
    return ocppj.call_error(call.message_id, code, description)
