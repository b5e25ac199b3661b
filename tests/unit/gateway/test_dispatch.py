"""From a received text to the answer: frame limits, validation and routing, without a socket."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from chargestream.domain.records import Registration
from chargestream.gateway import metrics, ocppj
from chargestream.gateway.admission import Admission
from chargestream.gateway.dispatch import (
    TRUNCATED_MARK,
    answer_call,
    rate_limited,
    read_frame,
    stored_copy,
)
from chargestream.gateway.handlers import CentralSystem
from chargestream.storage.sqlite import SqliteStore
from tests.unit.gateway.conftest import central_system, context

LIMIT = 1000
BOOT = {"chargePointVendor": "ABB", "chargePointModel": "T54"}
START = {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": "2026-11-27T10:00:00Z"}
FAULTED = {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}


def frame(message_id: str, action: str, payload: Any) -> str:
    return orjson.dumps([2, message_id, action, payload]).decode()


def as_call(text: str) -> ocppj.Call:
    message = read_frame(text, binary=False, max_frame_bytes=LIMIT)
    assert isinstance(message, ocppj.Call)
    return message


async def answer(central: CentralSystem, text: str, *, lenient: bool = False) -> list[Any]:
    answered: list[Any] = orjson.loads(
        await answer_call(central, as_call(text), context(), lenient=lenient)
    )
    return answered


def test_read_frame_refuses_binary_frames() -> None:
    fault = read_frame('[2,"m1","Heartbeat",{}]', binary=True, max_frame_bytes=LIMIT)
    assert isinstance(fault, ocppj.ProtocolFault)
    assert (fault.message_id, fault.error_code) == ("m1", "FormationViolation")


def test_read_frame_refuses_a_frame_over_the_limit_in_bytes() -> None:
    # 300 four-byte characters: 1,200 bytes, under the limit in characters
    text = frame("m2", "DataTransfer", {"vendorId": "x", "data": "\U0001f50c" * 300})
    assert len(text) < LIMIT < len(text.encode())
    fault = read_frame(text, binary=False, max_frame_bytes=LIMIT)
    assert isinstance(fault, ocppj.ProtocolFault)
    assert fault.error_code == "FormationViolation"
    assert f"limit of {LIMIT} bytes" in fault.description


def test_read_frame_parses_a_frame_at_the_limit() -> None:
    text = frame("m3", "DataTransfer", {"vendorId": "x", "data": ""})
    padded = text.replace('"data":""', '"data":"' + "a" * (LIMIT - len(text)) + '"')
    assert len(padded.encode()) == LIMIT
    assert as_call(padded).action == "DataTransfer"


async def test_heartbeat_is_answered_with_a_call_result(central: CentralSystem) -> None:
    answered = await answer(central, frame("h1", "Heartbeat", {}))
    assert answered[:2] == [3, "h1"] and answered[2]["currentTime"].endswith("Z")


async def test_unknown_action_is_not_implemented(central: CentralSystem) -> None:
    answered = await answer(central, frame("u1", "Teleport", {}))
    assert answered[:3] == [4, "u1", "NotImplemented"]


async def test_action_of_the_csms_is_not_supported(central: CentralSystem) -> None:
    answered = await answer(central, frame("r1", "RemoteStartTransaction", {"idTag": "T"}))
    assert answered[:3] == [4, "r1", "NotSupported"]


async def test_schema_violation_is_answered_with_its_error_code(central: CentralSystem) -> None:
    answered = await answer(central, frame("a1", "Authorize", {}))
    assert answered[:3] == [4, "a1", "OccurenceConstraintViolation"]


async def test_lenient_charge_point_gets_the_handler_answer_and_a_counted_deviation(
    central: CentralSystem,
) -> None:
    deviations = metrics.SCHEMA_DEVIATIONS.labels("BootNotification")
    before = deviations._value.get()
    too_long = {"chargePointVendor": "V" * 40, "chargePointModel": "M"}  # schema: at most 20
    strict = await answer(central, frame("b1", "BootNotification", too_long))
    assert strict[:3] == [4, "b1", "PropertyConstraintViolation"]
    lenient = await answer(central, frame("b2", "BootNotification", too_long), lenient=True)
    assert lenient[:2] == [3, "b2"] and lenient[2]["status"] == "Accepted"
    assert deviations._value.get() == before + 1


async def test_unusable_payload_accepted_leniently_is_a_formation_violation(
    central: CentralSystem,
) -> None:
    answered = await answer(central, frame("a2", "Authorize", {}), lenient=True)
    assert answered[:3] == [4, "a2", "FormationViolation"]


@pytest.mark.parametrize("payload", [[], "text", 7])
async def test_a_payload_that_is_no_object_is_refused_even_leniently(
    central: CentralSystem, payload: Any
) -> None:
    answered = await answer(central, frame("x1", "Heartbeat", payload), lenient=True)
    assert answered[0] == 4 and answered[1] == "x1"


# -- registration policy on every CALL


async def answer_as(
    central: CentralSystem, text: str, admission: Admission | None = None
) -> list[Any]:
    answered: list[Any] = orjson.loads(
        await answer_call(central, as_call(text), context(), lenient=False, admission=admission)
    )
    return answered


@pytest.mark.parametrize(("policy", "standing"), [("pending", "Pending"), ("reject", "Rejected")])
async def test_a_charge_point_not_accepted_gets_a_security_error_for_all_but_boot(
    store: SqliteStore, policy: str, standing: str
) -> None:
    central = central_system(store, registration_policy=policy)
    refused = [
        frame("h1", "Heartbeat", {}),
        frame("a1", "Authorize", {"idTag": "TAG-1"}),
        frame("s1", "StartTransaction", START),
        frame("m1", "MeterValues", {"connectorId": 1, "meterValue": []}),
        frame("x1", "StatusNotification", FAULTED),
        frame("u1", "Teleport", {}),  # even an unknown action: not NotImplemented
    ]
    for text in refused:
        answered = await answer_as(central, text)
        assert answered[0] == 4 and answered[2] == "SecurityError", text
        assert standing in answered[3]
    boot = await answer_as(central, frame("b1", "BootNotification", BOOT))
    assert boot[:2] == [3, "b1"] and boot[2]["status"] == standing
    assert await store.get_registration("CP-1") is None


async def test_a_security_error_is_counted_by_its_code(store: SqliteStore) -> None:
    central = central_system(store, registration_policy="reject")
    errors = metrics.CALL_ERRORS.labels("SecurityError")
    before = errors._value.get()
    await answer_as(central, frame("h1", "Heartbeat", {}))
    assert errors._value.get() == before + 1


async def test_while_pending_what_the_csms_triggered_is_answered_once(store: SqliteStore) -> None:
    central = central_system(store, registration_policy="pending")
    admission = Admission()
    admission.expect("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})

    first = await answer_as(central, frame("t1", "StatusNotification", FAULTED), admission)
    again = await answer_as(central, frame("t2", "StatusNotification", FAULTED), admission)
    assert first[:3] == [3, "t1", {}]
    assert again[:3] == [4, "t2", "SecurityError"]


async def test_a_rejected_charge_point_gets_a_security_error_even_when_triggered(
    store: SqliteStore,
) -> None:
    central = central_system(store, registration_policy="reject")
    admission = Admission()
    admission.expect("TriggerMessage", {"requestedMessage": "Heartbeat"})
    answered = await answer_as(central, frame("t1", "Heartbeat", {}), admission)
    assert answered[:3] == [4, "t1", "SecurityError"]


async def test_a_pending_charge_point_is_answered_once_an_operator_registers_it(
    store: SqliteStore,
) -> None:
    central = central_system(store, registration_policy="pending")
    assert (await answer_as(central, frame("h1", "Heartbeat", {})))[2] == "SecurityError"
    await central.directory.register(Registration("CP-1"))
    assert (await answer_as(central, frame("h2", "Heartbeat", {})))[:2] == [3, "h2"]


async def test_under_policy_accept_an_unregistered_charge_point_is_answered(
    store: SqliteStore,
) -> None:
    central = central_system(store)  # accept: the default
    answered = await answer_as(central, frame("h1", "Heartbeat", {}))
    assert answered[:2] == [3, "h1"]


async def test_a_registration_that_cannot_be_read_is_an_internal_error(store: SqliteStore) -> None:
    central = central_system(store, registration_policy="reject")
    await store.close()  # the store is gone: the registration cannot be checked
    answered = await answer_as(central, frame("h1", "Heartbeat", {}))
    assert answered[:3] == [4, "h1", "InternalError"]


# -- what the log keeps of a refused frame, and the rate limit's answer


def test_a_refused_frame_within_the_limit_is_stored_as_it_is() -> None:
    text = frame("m1", "Heartbeat", {})
    assert stored_copy(text, 1024) == text
    exact = "é" * 512  # 1,024 bytes
    assert stored_copy(exact, 1024) == exact


def test_a_refused_frame_over_the_limit_is_stored_truncated_with_its_size_and_digest() -> None:
    text = frame("m1", "DataTransfer", {"vendorId": "x", "data": "a" * 1_000_000})
    stored = stored_copy(text, 1024)

    assert stored.startswith(text[:1024])
    size = len(text.encode())
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert stored[1024:] == f"{TRUNCATED_MARK}{size} bytes, sha256 {digest}]"
    assert len(stored.encode()) < 1024 + 120


def test_truncation_never_splits_a_character() -> None:
    text = "\U0001f50c" * 1000  # 4 bytes each
    stored = stored_copy(text, 1022)
    head = stored.split(TRUNCATED_MARK)[0]
    assert head == "\U0001f50c" * 255  # 1,020 bytes: the 256th would pass the limit


def test_a_binary_frame_is_measured_and_digested_as_received() -> None:
    raw = bytes(range(256)) * 8
    text = raw.decode("utf-8", "replace")
    stored = stored_copy(text, 100, raw)
    assert stored.endswith(f"{len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}]")


def test_with_limit_zero_only_the_mark_is_stored() -> None:
    stored = stored_copy("x" * 10, 0)
    assert stored.startswith(TRUNCATED_MARK)


def test_a_call_beyond_the_rate_gets_a_generic_error_it_may_retry() -> None:
    answered = orjson.loads(rate_limited(as_call(frame("r1", "Heartbeat", {})), "CP-1", 20, 0.05))
    assert answered[:3] == [4, "r1", "GenericError"]
    assert answered[3].startswith("rate limited: at most 20 CALLs per second")
