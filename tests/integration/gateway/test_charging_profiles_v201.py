"""Charging profiles for an OCPP 2.0.1 charging station over a real WebSocket and the real API:
the library's profile sent as 2.0.1 SetChargingProfile, installed once Accepted, cleared with
2.0.1 ClearChargingProfile, a TxProfile naming the station's transaction id and gone when the
transaction ends, GetCompositeSchedule by EVSE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ocpp import v201
from ocpp.routing import on
from ocpp.v201.enums import Action as Action201

from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_charging_profiles import define, install, installed_as
from tests.ocpp_client import TestChargingStation, at, boot_station, charging_station


class SmartStation(TestChargingStation):
    """Accepts charging profiles and clears, rejects composite schedules; logs each request."""

    __test__ = False

    @on(Action201.set_charging_profile)
    def on_set(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        self.received.append(("SetChargingProfile", {"evse_id": evse_id, **charging_profile}))
        return v201.call_result.SetChargingProfile(status="Accepted")

    @on(Action201.clear_charging_profile)
    def on_clear(self, **request: Any) -> Any:
        self.received.append(("ClearChargingProfile", request))
        return v201.call_result.ClearChargingProfile(status="Accepted")

    @on(Action201.get_composite_schedule)
    def on_composite(self, **request: Any) -> Any:
        self.received.append(("GetCompositeSchedule", request))
        return v201.call_result.GetCompositeSchedule(status="Rejected")


@asynccontextmanager
async def smart_station(
    csms: RunningCsms, station_id: str, kind: type[SmartStation] = SmartStation
) -> AsyncIterator[Any]:
    """A booted 2.0.1 station of ``kind`` the CSMS knows as one (so commands go in the
    2.0.1 form)."""
    async with charging_station(csms.ocpp_url, station_id, kind=kind) as station:
        assert await boot_station(station) == "Accepted"
        await eventually(lambda: _known_as_201(csms, station_id))
        yield station


async def _known_as_201(csms: RunningCsms, station_id: str) -> bool:
    response = await csms.api.get(f"/api/v1/charge-points/{station_id}")
    state = response.json().get("state") if response.status_code == 200 else None
    return bool(state and state.get("ocpp_version") == "ocpp2.0.1" and state["connected"])


async def transaction_event(
    station: SmartStation, event_type: str, seq_no: int, seconds: int, **fields: Any
) -> None:
    await station.call(
        v201.call.TransactionEvent(
            event_type=event_type,
            timestamp=at(seconds),
            trigger_reason="Authorized" if event_type == "Started" else "StopAuthorized",
            seq_no=seq_no,
            transaction_info={"transaction_id": "st-tx-1", **fields},
            evse={"id": 1, "connector_id": 1},
        )
    )


async def test_a_profile_is_installed_and_cleared_in_the_2_0_1_form(csms: RunningCsms) -> None:
    cap = await define(csms, name="Cap", purpose="ChargePointMaxProfile", unit="W")
    async with smart_station(csms, "CS-P1") as station:
        sent = await install(csms, "CS-P1", profile_id=cap, connector_id=0)
        assert (sent["http"], sent["response"]) == (200, {"status": "Accepted"})
        ((action, payload),) = station.received
        assert (action, payload["evse_id"], payload["id"]) == ("SetChargingProfile", 0, cap)
        assert payload["charging_profile_purpose"] == "ChargingStationMaxProfile"
        assert payload["charging_schedule"][0]["id"] == cap
        (row,) = await installed_as(csms, "CS-P1", [(0, cap)])
        assert row["purpose"] == "ChargingStationMaxProfile"

        response = await csms.api.delete(
            "/api/v1/charge-points/CS-P1/charging-profiles",
            params={"connector_id": 0, "purpose": "ChargePointMaxProfile"},
        )
        assert response.json()["response"] == {"status": "Accepted"}
        assert station.received[-1] == (
            "ClearChargingProfile",
            {
                "charging_profile_criteria": {
                    "evse_id": 0,
                    "charging_profile_purpose": "ChargingStationMaxProfile",
                }
            },
        )
        await installed_as(csms, "CS-P1", [])

        composite = await csms.api.get(
            "/api/v1/charge-points/CS-P1/composite-schedule",
            params={"connector_id": 1, "duration": 600},
        )
        assert composite.json()["response"] == {"status": "Rejected"}
        assert station.received[-1] == ("GetCompositeSchedule", {"evse_id": 1, "duration": 600})


async def test_a_tx_profile_names_the_station_transaction_and_goes_when_it_ends(
    csms: RunningCsms,
) -> None:
    tx_profile = await define(csms, name="Session", purpose="TxProfile")
    async with smart_station(csms, "CS-P2") as station:
        await transaction_event(station, "Started", 0, 0)

        async def session_id() -> int | None:
            response = await csms.api.get("/api/v1/charge-points/CS-P2/sessions")
            found = response.json() if response.status_code == 200 else []
            return found[0]["transaction_id"] if found else None

        transaction_id = await eventually(session_id)
        sent = await install(
            csms, "CS-P2", profile_id=tx_profile, connector_id=1, transaction_id=transaction_id
        )
        assert sent["response"] == {"status": "Accepted"}
        assert station.received[-1][1]["transaction_id"] == "st-tx-1"
        (row,) = await installed_as(csms, "CS-P2", [(1, tx_profile)])
        assert row["transaction_id"] == transaction_id

        await transaction_event(station, "Ended", 1, 60, stopped_reason="Local")
        await installed_as(csms, "CS-P2", [])
