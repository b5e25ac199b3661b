"""The 1.6 features over a real OCPP 2.0.1 WebSocket charging station and the real API:
a reservation (ReserveNow 2.0.1, used by a TransactionEvent, expired by
ReservationStatusUpdate, cancelled), a local list kept in sync (GetLocalListVersion,
GetVariables ItemsPerMessage, SendLocalList in parts), a firmware campaign (UpdateFirmware
2.0.1, its 2.0.1 statuses) and a diagnostics upload (GetLog, LogStatusNotification)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp import v201
from ocpp.routing import on
from ocpp.v201.enums import Action

from chargestream.domain.settings import Settings
from tests.conftest import RunningCsms, eventually, make_settings
from tests.ocpp_client import TestChargingStation, boot_station, charging_station


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", control_interval=0.1)


class FeatureStation(TestChargingStation):
    """A 2.0.1 station that takes reservations, keeps a local list (2 entries per message),
    and accepts firmware updates and log requests."""

    __test__ = False
    variable_value = "2"  # ItemsPerMessage

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.list_version = 0
        self.held: dict[str, dict[str, Any]] = {}

    @on(Action.reserve_now)
    def on_reserve_now(self, **payload: Any) -> v201.call_result.ReserveNow:
        self.received.append(("ReserveNow", payload))
        return v201.call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> v201.call_result.CancelReservation:
        self.received.append(("CancelReservation", {"reservation_id": reservation_id}))
        return v201.call_result.CancelReservation(status="Accepted")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> v201.call_result.GetLocalListVersion:
        self.received.append(("GetLocalListVersion", {}))
        return v201.call_result.GetLocalListVersion(version_number=self.list_version)

    @on(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **rest: Any
    ) -> v201.call_result.GetVariables:
        self.received.append(("GetVariables", {"data": get_variable_data}))
        return super().on_get_variables(get_variable_data, **rest)

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
    ) -> v201.call_result.SendLocalList:
        self.received.append(("SendLocalList", {"version": version_number, "type": update_type}))
        if update_type == "Full":
            self.held = {}
        for entry in local_authorization_list or []:
            token = entry["id_token"]["id_token"]
            info = entry.get("id_token_info")
            if info is None:
                self.held.pop(token, None)
            else:
                self.held[token] = info
        self.list_version = version_number
        return v201.call_result.SendLocalList(status="Accepted")

    @on(Action.update_firmware)
    def on_update_firmware(self, **payload: Any) -> v201.call_result.UpdateFirmware:
        self.received.append(("UpdateFirmware", payload))
        return v201.call_result.UpdateFirmware(status="Accepted")

    @on(Action.get_log)
    def on_get_log(self, **payload: Any) -> v201.call_result.GetLog:
        self.received.append(("GetLog", payload))
        return v201.call_result.GetLog(status="Accepted", filename="log.tar.gz")

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.received if name == action]


@asynccontextmanager
async def station(csms: RunningCsms, charge_point_id: str) -> AsyncIterator[FeatureStation]:
    """A booted 2.0.1 station, once the CSMS's views show its protocol (which the features
    read to choose their messages)."""
    async with charging_station(csms.ocpp_url, charge_point_id, kind=FeatureStation) as cs:
        assert await boot_station(cs) == "Accepted"

        async def protocol_known() -> bool:
            response = await csms.api.get(f"/api/v1/charge-points/{charge_point_id}")
            state = response.json().get("state") if response.status_code == 200 else None
            return bool(state) and state["ocpp_version"] == "ocpp2.0.1"

        await eventually(protocol_known)
        yield cs


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def reserve(csms: RunningCsms, charge_point_id: str, connector_id: int) -> dict[str, Any]:
    body = {
        "connector_id": connector_id,
        "id_tag": "TAG-1",
        "parent_id_tag": "GROUP",
        "expiry_date": in_hours(1),
    }
    response = await csms.api.post(
        f"/api/v1/charge-points/{charge_point_id}/reservations", json=body
    )
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()
    assert (made["status"], made["command"]["outcome"]) == ("active", "answered")
    return made


async def listed_as(csms: RunningCsms, reservation_id: int, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await csms.api.get(f"/api/v1/reservations/{reservation_id}")
        found: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return found if found.get("status") == status else None

    return await eventually(probe)


def started(reservation_id: int) -> v201.call.TransactionEvent:
    return v201.call.TransactionEvent(
        event_type="Started",
        timestamp=datetime.now(UTC).isoformat(),
        trigger_reason="Authorized",
        seq_no=0,
        transaction_info={"transaction_id": "tx-r1"},
        evse={"id": 1, "connector_id": 1},
        id_token={"id_token": "TAG-1", "type": "Central"},
        reservation_id=reservation_id,
    )


async def test_a_reservation_is_made_used_expired_and_cancelled_in_201(
    csms: RunningCsms,
) -> None:
    async with station(csms, "CS-R1") as cs:
        made = await reserve(csms, "CS-R1", 1)
        rid = made["reservation_id"]
        (sent,) = cs.sent("ReserveNow")
        assert sent["id"] == rid and sent["evse_id"] == 1
        assert sent["id_token"] == {"id_token": "TAG-1", "type": "Central"}
        assert sent["group_id_token"] == {"id_token": "GROUP", "type": "Central"}
        await listed_as(csms, rid, "active")
        await cs.call(started(rid))
        used = await listed_as(csms, rid, "used")
        session = await csms.api.get(f"/api/v1/sessions/{used['transaction_id']}")
        assert session.status_code == 200 and session.json()["station_transaction_id"] == "tx-r1"

        expiring = (await reserve(csms, "CS-R1", 2))["reservation_id"]
        await listed_as(csms, expiring, "active")
        await cs.call(
            v201.call.ReservationStatusUpdate(
                reservation_id=expiring, reservation_update_status="Expired"
            )
        )
        await listed_as(csms, expiring, "expired")

        cancelled = (await reserve(csms, "CS-R1", 0))["reservation_id"]
        assert "evse_id" not in cs.sent("ReserveNow")[-1]
        await listed_as(csms, cancelled, "active")
        response = await csms.api.delete(f"/api/v1/reservations/{cancelled}")
        assert response.status_code == 200, response.text
        assert cs.sent("CancelReservation") == [{"reservation_id": cancelled}]
        await listed_as(csms, cancelled, "cancelled")


async def test_a_local_list_reaches_a_201_station_in_parts(csms: RunningCsms) -> None:
    for tag, definition in (
        ("TAG-A", {}),
        ("TAG-B", {"status": "Blocked"}),
        ("TAG-C", {"expiry_date": "2030-01-02T03:04:05Z", "parent_id_tag": "TAG-A"}),
    ):
        response = await csms.api.put(f"/api/v1/id-tags/{tag}", json=definition)
        assert response.status_code == 200, response.text
    async with station(csms, "CS-L1") as cs:
        response = await csms.api.put(
            "/api/v1/charge-points/CS-L1/local-list", json={"tags": ["TAG-A", "TAG-B", "TAG-C"]}
        )
        assert response.status_code == 200, response.text

        async def in_sync() -> dict[str, Any] | None:
            shown = await csms.api.get("/api/v1/charge-points/CS-L1/local-list")
            body: dict[str, Any] = shown.json()
            return body if body["in_sync"] and body["confirmed_version"] == 10000 else None

        shown = await eventually(in_sync, timeout=15)
        assert (shown["send_max_length"], shown["last_status"]) == (2, "Accepted")
        assert cs.received[0] == ("GetLocalListVersion", {})
        (asked,) = cs.sent("GetVariables")
        assert asked["data"] == [
            {"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "ItemsPerMessage"}}
        ]
        # the station's empty list (version 0) is known: a Differential in two parts of 2
        assert cs.sent("SendLocalList") == [
            {"version": 9999, "type": "Differential"},
            {"version": 10000, "type": "Differential"},
        ]
        assert cs.held == {
            "TAG-A": {"status": "Accepted"},
            "TAG-B": {"status": "Blocked"},
            "TAG-C": {
                "status": "Accepted",
                "cache_expiry_date_time": "2030-01-02T03:04:05.000Z",
                "group_id_token": {"id_token": "TAG-A", "type": "Central"},
            },
        }


async def test_a_firmware_campaign_updates_a_201_station(csms: RunningCsms) -> None:
    async with station(csms, "CS-F1") as cs:
        response = await csms.api.post(
            "/api/v1/firmware-campaigns",
            json={
                "location": "https://firmware.example/cs-2.0.bin",
                "retrieve_date": datetime.now(UTC).isoformat(),
                "charge_points": ["CS-F1"],
                "retries": 2,
            },
        )
        assert response.status_code == 201, response.text
        campaign_id = response.json()["campaign"]["campaign_id"]

        async def sent() -> list[dict[str, Any]]:
            return cs.sent("UpdateFirmware")

        (update,) = await eventually(sent)
        assert update["firmware"]["location"] == "https://firmware.example/cs-2.0.bin"
        assert set(update) == {"request_id", "firmware", "retries"}

        async def target_is(state: str) -> bool:
            progress = await csms.api.get(f"/api/v1/firmware-campaigns/{campaign_id}")
            return bool(progress.json()["targets"][0]["state"] == state)

        for status, state in (
            ("Downloading", "downloading"),
            ("SignatureVerified", "downloaded"),
            ("InstallRebooting", "installing"),
            ("Installed", "installed"),
        ):
            await cs.call(
                v201.call.FirmwareStatusNotification(status=status, request_id=update["request_id"])
            )
            await eventually(lambda state=state: target_is(state))


async def test_diagnostics_of_a_201_station_come_by_get_log(csms: RunningCsms) -> None:
    content = b"2.0.1 log " * 100
    async with station(csms, "CS-D1") as cs:
        response = await csms.api.post(
            "/api/v1/charge-points/CS-D1/diagnostics",
            json={"retries": 2, "start_time": "2026-11-27T10:00:00Z"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["command"]["action"], body["command"]["response"]["status"]) == (
            "GetLog",
            "Accepted",
        )
        (asked,) = cs.sent("GetLog")
        assert (asked["log_type"], asked["retries"]) == ("DiagnosticsLog", 2)
        assert asked["log"]["oldest_timestamp"] == "2026-11-27T10:00:00Z"
        location = asked["log"]["remote_location"]
        async with httpx.AsyncClient() as charger:
            answer = await charger.put(location + "log.tar.gz", content=content)
            assert answer.status_code == 201, answer.text
        await cs.call(
            v201.call.LogStatusNotification(status="Uploaded", request_id=asked["request_id"])
        )

        async def uploaded() -> bool:
            statuses = await csms.api.get("/api/v1/charge-points/CS-D1/transfer-statuses")
            return any(
                (s["transfer"], s["status"], s["request_id"])
                == ("log", "Uploaded", asked["request_id"])
                for s in statuses.json()
            )

        await eventually(uploaded)
        files = (await csms.api.get("/api/v1/charge-points/CS-D1/diagnostics")).json()
        assert [(f["file_id"], f["sha256"]) for f in files] == [
            (body["file_id"], hashlib.sha256(content).hexdigest())
        ]
