"""From a received text to the answer: frame limits, validation and routing, without a socket."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from chargestream.gateway import metrics, ocppj
from chargestream.gateway.dispatch import answer_call, read_frame
from chargestream.gateway.handlers import CentralSystem
from tests.unit.gateway.conftest import context

LIMIT = 1000


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
