"""A site shared by an OCPP 1.6 charge point and an OCPP 2.0.1 charging station over real
WebSockets: each gets its profiles in its own version (2.0.1: TxDefaultProfile on EVSE 0, a
TxProfile naming the station's transaction id), and their sessions share the limit."""

from __future__ import annotations

from typing import Any

from ocpp import v201

from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_charging_profiles_v201 import SmartStation, smart_station
from tests.integration.streams.test_sites import (
    PROFILE_ID_BASE,
    SiteChargePoint,
    _connected,
    csms_settings,
    limits,
    start,
)
from tests.ocpp_client import at, booted

__all__ = ["csms_settings"]  # fixture: a short control interval


def station_limits(station: SmartStation) -> list[tuple[str, float, str | None]]:
    """(purpose, limit, transaction id) of each 2.0.1 profile the station received."""
    return [
        (
            payload["charging_profile_purpose"],
            payload["charging_schedule"][0]["charging_schedule_period"][0]["limit"],
            payload.get("transaction_id"),
        )
        for action, payload in station.received
        if action == "SetChargingProfile"
    ]


async def test_a_1_6_and_a_2_0_1_charge_point_share_a_site_limit(csms: RunningCsms) -> None:
    async with (
        booted(csms.ocpp_url, "MIX-16", SiteChargePoint) as old,
        smart_station(csms, "MIX-201") as new,
    ):
        await eventually(lambda: _connected(csms, "MIX-16"))
        response = await csms.api.put(
            "/api/v1/sites/mixed",
            json={"max_current_a": 32, "charge_points": ["MIX-16", "MIX-201"]},
        )
        assert response.status_code == 200, response.text

        async def got(station: list[Any], cp: list[Any]) -> bool:
            return all(i in station_limits(new) for i in station) and all(
                i in limits(old.profiles) for i in cp
            )

        await eventually(
            lambda: got([("TxDefaultProfile", 0.0, None)], [("MIX-16", "TxDefaultProfile", 0.0)])
        )
        default = next(p for a, p in new.received if a == "SetChargingProfile")
        assert (default["evse_id"], default["id"]) == (0, PROFILE_ID_BASE)

        await start(old, 0)
        await eventually(lambda: got([], [("MIX-16", "TxProfile", 32.0)]))

        await new.call(
            v201.call.TransactionEvent(
                event_type="Started",
                timestamp=at(60),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "mix-tx"},
                evse={"id": 1, "connector_id": 1},
            )
        )
        await eventually(
            lambda: got([("TxProfile", 16.0, "mix-tx")], [("MIX-16", "TxProfile", 16.0)])
        )
