"""The device model end to end in embedded mode: a 2.0.1 station over a real WebSocket
answers the GetBaseReport and GetVariables sent through the HTTP API and reports its
variables with NotifyReport; the runner derives them; the API serves them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import RunningCsms, eventually
from tests.ocpp201_device_model import (
    HEARTBEAT,
    get_variables,
    get_variables_answer,
    notify_report,
)
from tests.ocpp201_frames import boot
from tests.ocpp_client import raw_station

CP = "CP-201"


async def device_model(csms: RunningCsms, **params: Any) -> httpx.Response:
    return await csms.api.get(f"/api/v1/charge-points/{CP}/device-model", params=params)


async def test_a_notify_report_and_get_variables_answer_are_browsable_in_the_api(
    csms: RunningCsms,
) -> None:
    commands = f"/api/v1/charge-points/{CP}/commands"
    async with raw_station(csms.ocpp_url, CP) as station:
        await station.call("BootNotification", boot())

        async def known() -> bool:
            return (await csms.api.get(f"/api/v1/charge-points/{CP}")).status_code == 200

        await eventually(known)
        asked = asyncio.create_task(
            csms.api.post(
                f"{commands}/GetBaseReport", json={"requestId": 3, "reportBase": "FullInventory"}
            )
        )
        action, _ = await station.answer_next({"GetBaseReport": {"status": "Accepted"}})
        assert action == "GetBaseReport" and (await asked).status_code == 200
        await station.call("NotifyReport", notify_report(request_id=3))
        asked = asyncio.create_task(
            csms.api.post(f"{commands}/GetVariables", json=get_variables(HEARTBEAT))
        )
        value = {**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "60"}
        await station.answer_next({"GetVariables": get_variables_answer(value)})
        assert (await asked).status_code == 200

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
    replayed = await csms.app.derivation.processor.rebuild()
    assert replayed > 0  # a replay derives the same device model
    assert await store.device_variables(CP) == before
