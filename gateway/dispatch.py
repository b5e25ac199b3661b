"""From a received text to what the gateway answers: frame limits, registration,
validation, routing; and what the log keeps of a refused frame.

No socket and no log here: ``Connection`` records and sends what these return, so the
whole answer to a CALL can be tested by calling ``answer_call`` with a message and a store.
"""

from __future__ import annotations

import hashlib
import logging

from chargestream.domain.protocols import OcppVersion
from chargestream.gateway import (
    handlers_v201,  # noqa: F401 -- registers the 2.0.1 handlers
    metrics,
    ocppj,
)
from chargestream.gateway.admission import ALWAYS_ADMITTED, Admission
from chargestream.gateway.handlers import CallContext, CentralSystem
from chargestream.gateway.schemas import SchemaViolation, protocol, validate_request
from chargestream.storage.base import StoreUnavailable

log = logging.getLogger("chargestream.gateway")

SECURITY_ERROR = "SecurityError"
RATE_LIMITED = "GenericError"  # OCPP-J has no code of its own for "too many CALLs"
TRUNCATED_MARK = "\u2026[truncated by chargestream: "


def read_frame(
    text: str, *, binary: bool, max_frame_bytes: int, version: OcppVersion = OcppVersion.V16
) -> ocppj.Message | ocppj.ProtocolFault:
    """The message a frame holds, or why it cannot be one (binary, too large, malformed),
    with the error codes of the connection's ``version``."""
    spec = protocol(version)
    if binary:
        return ocppj.ProtocolFault(
            ocppj.guess_message_id(text), spec.framing_error, "OCPP-J uses text frames"
        )
    # a character is at most 4 bytes: encode only a text that may be too large
    if len(text) > max_frame_bytes // 4 and len(text.encode()) > max_frame_bytes:
        return ocppj.ProtocolFault(
            ocppj.guess_message_id(text),
            spec.format_violation,
            f"frame exceeds the limit of {max_frame_bytes} bytes",
        )
    return ocppj.parse(text, version)


def stored_copy(text: str, limit: int, raw: bytes | None = None) -> str:
    """What the log keeps of a refused frame: the frame itself if it has at most ``limit``
    bytes, else its first ``limit`` bytes and a mark with its size and SHA-256 digest.

    ``raw`` are the bytes as received when ``text`` had to be decoded (binary frames):
    the size and digest are then of those bytes.
    """
    if raw is None and len(text) <= limit // 4:  # a character is at most 4 bytes
        return text
    data = text.encode() if raw is None else raw
    if len(data) <= limit:
        return text
    metrics.TRUNCATED_FRAMES.inc()
    head = data[:limit].decode("utf-8", "ignore")
    digest = hashlib.sha256(data).hexdigest()
    return f"{head}{TRUNCATED_MARK}{len(data)} bytes, sha256 {digest}]"


def rate_limited(call: ocppj.Call, charge_point_id: str, per_second: int, wait: float) -> str:
    """The answer to a CALL beyond the connection's rate (the charge point may retry it)."""
    return _refusal(
        charge_point_id,
        call,
        RATE_LIMITED,
        f"rate limited: at most {per_second} CALLs per second; retry in {wait:.1f} s",
        quiet=True,
    )


async def answer_call(
    central: CentralSystem,
    call: ocppj.Call,
    context: CallContext,
    *,
    lenient: bool,
    admission: Admission | None = None,
    version: OcppVersion = OcppVersion.V16,
) -> str:
    """The CALLRESULT or CALLERROR frame that answers ``call``.

    A charge point the CSMS has not accepted gets a ``SecurityError`` for everything but
    what ``admission`` admits (BootNotification; while Pending, what the CSMS triggered).
    Schema violations are answered with their OCPP-J error code, unless the charge point
    is lenient: then they are counted and logged, and the handler answers. Handlers, schemas
    and error codes are those of the connection's ``version``.
    """
    cp = context.charge_point_id
    spec = protocol(version)

    def _error(code: str, description: str) -> str:
        return _refusal(cp, call, spec.error_code(code), description)

    if call.action not in ALWAYS_ADMITTED:
        try:
            standing = await central.standing(cp)
        except StoreUnavailable:
            return _error("InternalError", "the CSMS cannot check the registration")
        if not (admission or Admission()).admits(standing, call.action):
            return _error(SECURITY_ERROR, f"charge point not accepted (registration {standing})")
    if not central.handles(call.action, version):
        if call.action in spec.csms_actions:
            return _error("NotSupported", f"{call.action} is sent by the CSMS")
        return _error("NotImplemented", f"unknown action {call.action!r}")
    try:
        validate_request(call.action, call.payload, version)
    except SchemaViolation as violation:
        if not lenient or not isinstance(call.payload, dict):
            return _error(violation.error_code, violation.description)
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
        payload = await central.handle(call.action, context, call.payload, version)
    except (KeyError, TypeError, ValueError) as error:
        return _error("FormationViolation", f"payload not usable: {error}")
    except Exception:  # a handler's bug must cost one CALL, not the connection
        log.exception("handler_failed", extra={"fields": {"cp": cp, "action": call.action}})
        return _error("InternalError", "the CSMS failed to process the CALL")
    return ocppj.call_result(call.message_id, payload)


def _refusal(cp: str, call: ocppj.Call, code: str, description: str, *, quiet: bool = False) -> str:
    """A CALLERROR, counted; logged unless ``quiet`` (the caller logs it its own way)."""
    metrics.CALL_ERRORS.labels(code).inc()
    if not quiet:
        log.info(
            "call_rejected",
            extra={
                "fields": {
                    "cp": cp,
                    "action": call.action[:64],
                    "error_code": code,
                    "error": description,
                }
            },
        )
    return ocppj.call_error(call.message_id, code, description)
