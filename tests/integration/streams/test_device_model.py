"""The device model end to end in embedded mode: OCPP 2.0.1 frame events appended to the
real SQLite event log, derived by the runner, read through the HTTP API."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx
import orjson

from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType
from chargestream.domain.protocols import OcppVersion
from tests.conftest import RunningCsms, eventually
from tests.ocpp201_device_model import (
    HEARTBEAT,
    get_variables,
    get_variables_answer,
    notify_report,
)

CP = "CP-201"


class FrameLog:
    """Frame events of one OCPP 2.0.1 connection, as the gateway would log them."""

    def __init__(self) -> None:
        self.sequence = itertools.count()
        self.events: list[FrameEvent] = []
        self.event(EventKind.CONNECTED, '{"remote": "127.0.0.1"}')

    def event(self, kind: EventKind, frame: str, **meta: Any) -> None:
        self.events.append(
            FrameEvent(
                charge_point_id=CP,
                kind=kind,
                frame=frame,
                node="test-node",
                connection_id="conn-1",
                sequence=next(self.sequence),
                received_us=time.time_ns() // 1000,
                ocpp_version=OcppVersion.V201,
                **meta,
            )
        )

    def exchange(
        self, call_from: Direction, action: str, payload: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        """A CALL and its CALLRESULT, the charge point's (IN) or the CSMS's (OUT)."""
        message_id = f"m-{len(self.events)}"
        answer_from = Direction.OUT if call_from is Direction.IN else Direction.IN
        self.event(
            EventKind.FRAME,
            orjson.dumps([2, message_id, action, payload]).decode(),
            direction=call_from,
            message_type=MessageType.CALL,
            message_id=message_id,
            action=action,
        )
        self.event(
            EventKind.FRAME,
            orjson.dumps([3, message_id, answer]).decode(),
            direction=answer_from,
            message_type=MessageType.CALLRESULT,
            message_id=message_id,
            action=action,
        )


async def device_model(csms: RunningCsms, **params: Any) -> httpx.Response:
    return await csms.api.get(f"/api/v1/charge-points/{CP}/device-model", params=params)


async def test_a_notify_report_and_get_variables_answer_are_browsable_in_the_api(
    csms: RunningCsms,
) -> None:
    log = FrameLog()
    log.exchange(Direction.IN, "NotifyReport", notify_report(request_id=3), {})
    log.exchange(
        Direction.OUT,
        "GetVariables",
        get_variables(HEARTBEAT),
        get_variables_answer({**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "60"}),
    )
    await csms.app.event_log.append(log.events)

    async def all_five() -> list[dict[str, Any]]:
        response = await device_model(csms)
        found = response.json()["variables"] if response.status_code == 200 else []
        return found if len(found) == 5 else []

    every = await eventually(all_five)
    assert [(v["component"], v["variable"], v["attribute_type"]) for v in every] == [
        ("Connector", "Power", "Actual"),
        ("Connector", "Power", "Target"),
        ("EVSE", "AvailabilityState", "Actual"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "Actual"),
        ("SecurityCtrlr", "Identity", "Actual"),
    ]

    async def heartbeat_got() -> dict[str, Any] | None:
        response = await device_model(csms, component="OCPPCommCtrlr")
        (heartbeat,) = response.json()["variables"]
        return heartbeat if heartbeat["value"] == "60" else None

    heartbeat = await eventually(heartbeat_got)
    assert heartbeat["source"] == "GetVariables" and heartbeat["status"] == "Accepted"
    assert heartbeat["characteristics"]["unit"] == "s"  # the report's, kept
    assert (heartbeat["request_id"], heartbeat["mutability"]) == (3, "ReadWrite")

    first = (await device_model(csms, limit=2)).json()
    assert [v["attribute_type"] for v in first["variables"]] == ["Actual", "Target"]
    rest = (await device_model(csms, limit=10, after=first["after"])).json()
    assert [v["component"] for v in rest["variables"]] == ["EVSE", "OCPPCommCtrlr", "SecurityCtrlr"]
    assert rest["after"] is None
    assert (await device_model(csms, variable="Power")).json()["variables"][0]["evse_id"] == 1
    assert (await device_model(csms, after="not-a-cursor")).status_code == 422
    unknown = await csms.api.get("/api/v1/charge-points/CP-NONE/device-model")
    assert unknown.status_code == 404

    store = csms.app.store
    before = await store.device_variables(CP)
    assert await csms.app.processor.rebuild() > 0  # a replay derives the same device model
    assert await store.device_variables(CP) == before
