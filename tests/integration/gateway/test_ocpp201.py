"""OCPP 2.0.1 over real WebSockets against the embedded CSMS: the handshake's choice of
version (preference, pin, none in common), every charging station message answered per its
schema, bad input answered with 2.0.1 error codes, the Pending boot flow, Basic auth
(profile 1), and commands to a 2.0.1 station (its actions sent, 1.6 actions refused)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from chargestream.domain.protocols import OcppVersion
from chargestream.gateway.schemas import STATION_ACTIONS_V201, validate_response
from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_hardening import running
from tests.ocpp201_requests import REQUESTS
from tests.ocpp_client import boot_station, charge_point, charging_station

V201 = OcppVersion.V201
PASSWORD = "station-password-0123"


def open_socket(csms: RunningCsms, charge_point_id: str, *subprotocols: str) -> Any:
    return connect(csms.url(charge_point_id), subprotocols=list(subprotocols))  # type: ignore[arg-type]


async def exchange(websocket: ClientConnection, text: str) -> list[Any]:
    await websocket.send(text)
    answer: list[Any] = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
    return answer


async def refused(csms: RunningCsms, charge_point_id: str, *subprotocols: str) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        async with open_socket(csms, charge_point_id, *subprotocols):
            pass
    return refusal.value.response.status_code


async def known(csms: RunningCsms, *charge_point_ids: str) -> bool:
    """The CSMS knows them (a command before that is a 404)."""
    for charge_point_id in charge_point_ids:
        if (await csms.api.get(f"/api/v1/charge-points/{charge_point_id}")).status_code != 200:
            return False
    return True


# -- the handshake


async def test_the_charge_points_order_of_preference_selects_the_version(
    csms: RunningCsms,
) -> None:
    async with open_socket(csms, "CP-A", "ocpp2.0.1", "ocpp1.6") as websocket:
        assert websocket.subprotocol == "ocpp2.0.1"
        boot = REQUESTS["BootNotification"]
        answer = await exchange(
            websocket, orjson.dumps([2, "b1", "BootNotification", boot]).decode()
        )
        assert answer[0] == 3 and answer[2]["status"] == "Accepted"
    async with open_socket(csms, "CP-B", "ocpp1.6", "ocpp2.0.1") as websocket:
        assert websocket.subprotocol == "ocpp1.6"


async def test_every_frame_event_records_its_connections_version(csms: RunningCsms) -> None:
    async with charging_station(csms.ocpp_url, "CP-201") as station:
        assert await boot_station(station) == "Accepted"
    async with charge_point(csms.ocpp_url, "CP-16"):
        pass
    # connected, CALL, CALLRESULT, disconnected; connected, disconnected
    frames = await eventually(lambda: logged_frames(csms, "CP-201", 4))
    assert {frame["ocpp_version"] for frame in frames} == {"ocpp2.0.1"}
    sixteen = await eventually(lambda: logged_frames(csms, "CP-16", 2))
    assert {frame["ocpp_version"] for frame in sixteen} == {"ocpp1.6"}


async def logged_frames(csms: RunningCsms, charge_point_id: str, count: int) -> list[Any]:
    """Its frames once the log has ``count`` of them (none yet: the CSMS may not know it)."""
    response = await csms.api.get(f"/api/v1/charge-points/{charge_point_id}/frames")
    frames: list[Any] = response.json() if response.status_code == 200 else []
    return frames if len(frames) >= count else []


async def test_a_registration_pins_the_version(csms: RunningCsms) -> None:
    pinned = await csms.api.put("/api/v1/charge-points/CP-PIN", json={"ocpp_version": "ocpp1.6"})
    assert pinned.status_code == 200 and pinned.json()["ocpp_version"] == "ocpp1.6"
    fetched = await csms.api.get("/api/v1/charge-points/CP-PIN")
    assert fetched.json()["ocpp_version"] == "ocpp1.6"
    async with open_socket(csms, "CP-PIN", "ocpp2.0.1", "ocpp1.6") as websocket:
        assert websocket.subprotocol == "ocpp1.6"
    assert await refused(csms, "CP-PIN", "ocpp2.0.1") == 400
    unpinned = await csms.api.put("/api/v1/charge-points/CP-PIN", json={"ocpp_version": None})
    assert unpinned.json()["ocpp_version"] is None
    async with charging_station(csms.ocpp_url, "CP-PIN") as station:
        assert await boot_station(station) == "Accepted"
    wrong = await csms.api.put("/api/v1/charge-points/CP-PIN", json={"ocpp_version": "ocpp2.1"})
    assert wrong.status_code == 422


async def test_no_common_version_is_refused(csms: RunningCsms, tmp_path: Path) -> None:
    assert await refused(csms, "CP-X", "ocpp2.1", "ocpp1.5") == 400
    async with running(tmp_path / "only16", ocpp_versions="ocpp1.6") as only16:
        assert await refused(only16, "CP-X", "ocpp2.0.1") == 400
        async with open_socket(only16, "CP-X", "ocpp2.0.1", "ocpp1.6") as websocket:
            assert websocket.subprotocol == "ocpp1.6"


# -- what a 2.0.1 station sends


async def test_every_station_message_is_answered_valid_against_its_schema(
    csms: RunningCsms,
) -> None:
    async with open_socket(csms, "CP-ALL", "ocpp2.0.1") as websocket:
        for number, action in enumerate(["BootNotification", *sorted(STATION_ACTIONS_V201)]):
            frame = orjson.dumps([2, f"m{number}", action, REQUESTS[action]]).decode()
            answer = await exchange(websocket, frame)
            assert answer[:2] == [3, f"m{number}"], (action, answer)
            validate_response(action, answer[2], V201)


@pytest.mark.parametrize(
    ("frame", "message_id", "code"),
    [
        ("not json at all", "-1", "RpcFrameworkError"),
        ('[2, "m1", "Heartbeat"]', "m1", "RpcFrameworkError"),
        ('[5, "m2", "Heartbeat", "x", {}]', "m2", "MessageTypeNotSupported"),
        (
            '[2, "m3", "BootNotification", {"reason": "PowerUp"}]',
            "m3",
            "OccurrenceConstraintViolation",
        ),
        ('[2, "m4", "BootNotification", []]', "m4", "FormatViolation"),
        (
            '[2, "m5", "StatusNotification", {"timestamp": "2026-11-27T10:00:00Z", '
            '"connectorStatus": "Available", "evseId": "1", "connectorId": 1}]',
            "m5",
            "TypeConstraintViolation",
        ),
        ('[2, "m6", "Heartbeat", {"x": 1}]', "m6", "FormatViolation"),
        ('[2, "m7", "Reset", {"type": "Immediate"}]', "m7", "NotSupported"),
        ('[2, "m8", "StartTransaction", {}]', "m8", "NotImplemented"),  # 1.6 only
    ],
)
async def test_bad_input_is_answered_with_201_error_codes(
    csms: RunningCsms, frame: str, message_id: str, code: str
) -> None:
    async with open_socket(csms, "CP-BAD", "ocpp2.0.1") as websocket:
        answer = await exchange(websocket, frame)
        assert answer[:3] == [4, message_id, code], answer
        heartbeat = await exchange(websocket, '[2, "ok", "Heartbeat", {}]')
        assert heartbeat[:2] == [3, "ok"]  # the connection survives


async def test_pending_boot_flow(tmp_path: Path) -> None:
    async with (
        running(tmp_path, registration_policy="pending") as csms,
        open_socket(csms, "CP-P", "ocpp2.0.1") as websocket,
    ):
        boot_frame = orjson.dumps([2, "b1", "BootNotification", REQUESTS["BootNotification"]])
        answer = await exchange(websocket, boot_frame.decode())
        assert answer[2]["status"] == "Pending"
        validate_response("BootNotification", answer[2], V201)
        refusal = await exchange(websocket, '[2, "h1", "Heartbeat", {}]')
        assert refusal[:3] == [4, "h1", "SecurityError"]
        await csms.api.put("/api/v1/charge-points/CP-P", json={})
        answer = await exchange(websocket, boot_frame.decode().replace('"b1"', '"b2"'))
        assert answer[2]["status"] == "Accepted"
        accepted = await exchange(websocket, '[2, "h2", "Heartbeat", {}]')
        assert accepted[:2] == [3, "h2"]


async def test_profile_1_basic_auth_for_a_201_station(csms: RunningCsms) -> None:
    await csms.api.put(
        "/api/v1/charge-points/CP-P1", json={"password": PASSWORD, "security_profile": 1}
    )
    async with charging_station(csms.ocpp_url, "CP-P1", password=PASSWORD) as station:
        assert await boot_station(station) == "Accepted"
    for password in (None, "wrong-password-0123456"):
        with pytest.raises(InvalidStatus) as refusal:
            async with charging_station(csms.ocpp_url, "CP-P1", password=password):
                pass
        assert refusal.value.response.status_code == 401


# -- commands to a 2.0.1 station


async def test_commands_to_a_201_station_use_201_actions(csms: RunningCsms) -> None:
    async with charging_station(csms.ocpp_url, "CP-CMD") as station:
        assert await boot_station(station) == "Accepted"
        await eventually(lambda: known(csms, "CP-CMD"))
        commands = "/api/v1/charge-points/CP-CMD/commands"
        reset = await csms.api.post(f"{commands}/Reset", json={"type": "Immediate"})
        assert reset.status_code == 200, reset.text
        assert reset.json()["response"] == {"status": "Accepted"}
        assert ("Reset", {"type": "Immediate"}) in station.received
        wanted = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        variables = await csms.api.post(
            f"{commands}/GetVariables", json={"getVariableData": [wanted]}
        )
        assert variables.status_code == 200, variables.text
        assert variables.json()["response"]["getVariableResult"][0]["attributeValue"] == "300"
        legacy = await csms.api.post(f"{commands}/RemoteStartTransaction", json={"idTag": "T"})
        assert legacy.status_code == 422
        assert legacy.json()["error"] == "RemoteStartTransaction is not an action of OCPP 2.0.1"
        invalid = await csms.api.post(f"{commands}/Reset", json={"type": "Hard"})  # 1.6 shape
        assert invalid.status_code == 422
        assert invalid.json()["error"].startswith("PropertyConstraintViolation")
        unknown = await csms.api.post(f"{commands}/Frobnicate", json={})
        assert unknown.status_code == 404


async def test_a_201_action_is_refused_for_a_16_charge_point(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-OLD"):
        await eventually(lambda: known(csms, "CP-OLD"))
        refused_command = await csms.api.post(
            "/api/v1/charge-points/CP-OLD/commands/GetVariables",
            json={"getVariableData": [{"component": {"name": "X"}, "variable": {"name": "Y"}}]},
        )
        assert refused_command.status_code == 422
        assert refused_command.json()["error"] == "GetVariables is not an action of OCPP 1.6"


async def test_a_bulk_command_to_a_mixed_fleet_checks_each_charge_points_version(
    csms: RunningCsms,
) -> None:
    async with (
        charging_station(csms.ocpp_url, "CP-MIX-201") as station,
        charge_point(csms.ocpp_url, "CP-MIX-16"),
    ):
        assert await boot_station(station) == "Accepted"
        await eventually(lambda: known(csms, "CP-MIX-201", "CP-MIX-16"))
        bulk = await csms.api.post(
            "/api/v1/commands/bulk",
            json={
                "action": "Reset",
                "payload": {"type": "Immediate"},  # 2.0.1's Reset; 1.6 knows Hard and Soft
                "charge_point_ids": ["CP-MIX-201", "CP-MIX-16"],
            },
        )
    assert bulk.status_code == 200, bulk.text
    outcomes = {r["charge_point_id"]: (r["outcome"], r["error"]) for r in bulk.json()["results"]}
    assert outcomes["CP-MIX-201"] == ("answered", None)
    assert outcomes["CP-MIX-16"][0] == "rejected"
    assert outcomes["CP-MIX-16"][1].startswith("PropertyConstraintViolation")
