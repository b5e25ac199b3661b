"""The pipeline benchmark's reading of the frames topic, in both shapes of the log."""

from __future__ import annotations

from dataclasses import replace

from benchmarks.reconcile import is_charge_point_call
from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType

CALL = FrameEvent(
    "CP-1",
    EventKind.FRAME,
    '[2,"m1","Heartbeat",{}]',
    "n",
    "c",
    1,
    1_700_000_000_000_000,
    Direction.IN,
    MessageType.CALL,
    "m1",
    "Heartbeat",
)
RESULT = replace(
    CALL, frame='[3,"m1",{}]', direction=Direction.OUT, message_type=MessageType.CALLRESULT
)


def test_a_charge_points_call_is_counted_with_or_without_its_answer_inside() -> None:
    exchange = replace(CALL, answer='[3,"m1",{}]')
    assert is_charge_point_call(dict(exchange.headers()))
    assert is_charge_point_call(dict(CALL.headers()))
    assert not is_charge_point_call(dict(RESULT.headers()))
    command = replace(CALL, direction=Direction.OUT)
    assert not is_charge_point_call(dict(command.headers()))
