"""Site load management end to end: real WebSocket charge points, the embedded CSMS, the
real API. Two charge points in a 32 A site: a session alone gets 32 A, two get 16 A each
(the decrease sent before the increase), a stop gives the other 32 A again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from chargestream.domain.settings import Settings
from tests.conftest import RunningCsms, eventually, make_settings
from tests.ocpp_client import TestChargePoint, at, booted

PROFILE_ID_BASE = 1_000_000_000


class SiteChargePoint(TestChargePoint):
    """Accepts charging profiles and logs them, in order, to ``profiles`` (shared)."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profiles: list[tuple[str, int, dict[str, Any]]] = []

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> call_result.SetChargingProfile:
        self.profiles.append((self.id, connector_id, cs_charging_profiles))
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **_: Any) -> call_result.ClearChargingProfile:
        return call_result.ClearChargingProfile(status="Accepted")


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", control_interval=0.3, accept_unknown_id_tags=True)


@pytest.fixture
async def site_charge_points(csms: RunningCsms) -> AsyncIterator[dict[str, SiteChargePoint]]:
    profiles: list[tuple[str, int, dict[str, Any]]] = []
    async with AsyncExitStack() as stack:
        points = {}
        for cp_id in ("SITE-A", "SITE-B"):
            cp = await stack.enter_async_context(booted(csms.ocpp_url, cp_id, SiteChargePoint))
            cp.profiles = profiles
            points[cp_id] = cp
        for cp_id in points:  # the CSMS knows them before the site names them
            await eventually(lambda cp_id=cp_id: _connected(csms, cp_id))
        yield points


async def _connected(csms: RunningCsms, cp_id: str) -> bool:
    response = await csms.api.get(f"/api/v1/charge-points/{cp_id}")
    return response.status_code == 200 and bool((response.json()["state"] or {}).get("connected"))


def limits(profiles: list[tuple[str, int, dict[str, Any]]]) -> list[tuple[str, str, float]]:
    """(charge point, purpose, limit) of each profile received, in order."""
    return [
        (
            cp_id,
            profile["charging_profile_purpose"],
            profile["charging_schedule"]["charging_schedule_period"][0]["limit"],
        )
        for cp_id, _, profile in profiles
    ]


async def start(cp: SiteChargePoint, seconds: int) -> int:
    started = await cp.call(
        call.StartTransaction(connector_id=1, id_tag="TAG-1", meter_start=0, timestamp=at(seconds))
    )
    transaction_id: int = started.transaction_id
    return transaction_id


async def test_a_site_limit_is_shared_by_its_sessions_and_holds_as_they_start_and_stop(
    csms: RunningCsms, site_charge_points: dict[str, SiteChargePoint]
) -> None:
    a, b = site_charge_points["SITE-A"], site_charge_points["SITE-B"]
    profiles = a.profiles
    response = await csms.api.put(
        "/api/v1/sites/depot", json={"max_current_a": 32, "charge_points": ["SITE-A", "SITE-B"]}
    )
    assert response.status_code == 200, response.text

    async def received(*expected: tuple[str, str, float]) -> bool:
        return all(item in limits(profiles) for item in expected)

    # every charge point of the site: sessions start paused until given their share
    await eventually(
        lambda: received(("SITE-A", "TxDefaultProfile", 0.0), ("SITE-B", "TxDefaultProfile", 0.0))
    )
    assert {profile["charging_profile_id"] for _, _, profile in profiles} == {PROFILE_ID_BASE}

    first = await start(a, 0)
    await eventually(lambda: received(("SITE-A", "TxProfile", 32.0)))
    (_, connector, profile) = profiles[-1]
    assert (connector, profile["transaction_id"]) == (1, first)
    assert profile["charging_profile_id"] == PROFILE_ID_BASE + 1
    assert profile["charging_schedule"]["charging_rate_unit"] == "A"

    mark = len(profiles)
    second = await start(b, 60)
    await eventually(lambda: received(("SITE-A", "TxProfile", 16.0), ("SITE-B", "TxProfile", 16.0)))
    assert limits(profiles[mark:])[:2] == [
        ("SITE-A", "TxProfile", 16.0),  # the decrease first
        ("SITE-B", "TxProfile", 16.0),
    ]
    await a.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=first,
            meter_value=[
                {
                    "timestamp": at(70),
                    "sampledValue": [
                        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}
                    ],
                }
            ],
        )
    )

    async def shown() -> dict[str, Any] | None:
        site = (await csms.api.get("/api/v1/sites/depot")).json()
        sessions = {s["transaction_id"]: s for s in site["sessions"]}
        ready = len(sessions) == 2 and sessions[first]["measured_power_w"] is not None
        # each share is kept once the charge point's answer is in, just after it has it
        shared = all(
            s["allocated_a"] == 16.0 and s["status"] == "Accepted" for s in sessions.values()
        )
        return sessions if ready and shared else None

    sessions = await eventually(shown)
    assert sessions[first] == {
        "charge_point_id": "SITE-A",
        "connector_id": 1,
        "transaction_id": first,
        "allocated_a": 16.0,
        "allocated_w": 11040.0,
        "unit": "A",
        "status": "Accepted",
        "measured_power_w": 7200.0,
    }

    mark = len(profiles)
    await a.call(call.StopTransaction(meter_stop=5000, timestamp=at(120), transaction_id=first))
    await eventually(lambda: received(("SITE-B", "TxProfile", 32.0)))
    assert limits(profiles[mark:]) == [("SITE-B", "TxProfile", 32.0)]

    async def shares_as_sent() -> bool:
        # the site keeps a share once the controller has the charge point's answer, which
        # is just after the charge point has the profile
        site = (await csms.api.get("/api/v1/sites/depot")).json()
        return [(s["transaction_id"], s["allocated_a"]) for s in site["sessions"]] == [
            (second, 32.0)
        ]

    await eventually(shares_as_sent)


async def test_a_connectors_capacity_caps_its_share_and_the_rest_goes_to_the_other(
    csms: RunningCsms, site_charge_points: dict[str, SiteChargePoint]
) -> None:
    a, b = site_charge_points["SITE-A"], site_charge_points["SITE-B"]
    response = await csms.api.put(
        "/api/v1/charge-points/SITE-B", json={"max_current_a": 10, "phases": 1}
    )
    assert (response.json()["max_current_a"], response.json()["phases"]) == (10, 1)
    await csms.api.put(
        "/api/v1/sites/depot", json={"max_current_a": 32, "charge_points": ["SITE-A", "SITE-B"]}
    )
    await start(a, 0)
    await start(b, 60)

    async def shares() -> dict[str, tuple[float, float]] | None:
        site = (await csms.api.get("/api/v1/sites/depot")).json()
        found = {
            s["charge_point_id"]: (s["allocated_a"], s["allocated_w"]) for s in site["sessions"]
        }
        return found if found == {"SITE-A": (22.0, 15180.0), "SITE-B": (10.0, 2300.0)} else None

    await eventually(shares)
    taken = await csms.api.put(
        "/api/v1/sites/annex", json={"max_power_w": 11000, "charge_points": ["SITE-B"]}
    )
    assert taken.status_code == 422
    assert "SITE-B" in taken.text and "depot" in taken.text
