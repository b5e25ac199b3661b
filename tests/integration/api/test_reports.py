"""Reports end to end: a 1.6 charge point and a 2.0.1 station report statuses (with their own
timestamps, in the past) over real WebSockets to the embedded CSMS; the API computes
availability, uptime with an exclusion, utilization and the CSV, the same after a replay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from tests.conftest import RunningCsms, eventually
from tests.ocpp201_frames import boot, status
from tests.ocpp_client import T0, TestChargePoint, at, booted, raw_station

CP16, CP201 = "REP-16", "REP-201"
PERIOD = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=3)).isoformat()}
HOUR = 3600.0
HOUR_LATER = timedelta(hours=1)


async def drive_1_6(cp: TestChargePoint) -> None:
    """Available, a 20-minute session (7.5 kWh), Faulted from 1 h to 1.5 h."""

    async def enter(seconds: int, state: str, error: str = "NoError") -> None:
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code=error, status=state, timestamp=at(seconds)
            )
        )

    await enter(0, "Available")
    started = await cp.call(
        call.StartTransaction(connector_id=1, id_tag="TAG-R", meter_start=0, timestamp=at(600))
    )
    await enter(600, "Charging")
    await cp.call(
        call.StopTransaction(
            meter_stop=7500, timestamp=at(1800), transaction_id=started.transaction_id
        )
    )
    await enter(1800, "Available")
    await enter(3600, "Faulted", "GroundFailure")
    await enter(5400, "Available")


async def _get(csms: RunningCsms, path: str, **params: str) -> Any:
    response = await csms.api.get(path, params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def _ports(csms: RunningCsms) -> dict[str, Any] | None:
    report = await _get(csms, "/api/v1/reports/availability")
    ports = {p["charge_point_id"]: p for p in report["ports"]}
    settled = ports.get(CP16, {}).get("seconds_by_status", {}).get("Available") == 7800
    return report if settled and CP201 in ports else None


async def test_availability_utilization_exclusions_and_csv(csms: RunningCsms) -> None:
    async with (
        booted(csms.ocpp_url, CP16, TestChargePoint) as cp,
        raw_station(csms.ocpp_url, CP201) as station,
    ):
        await drive_1_6(cp)
        await station.call("BootNotification", boot())
        await station.call("StatusNotification", status(1, 1, "Unavailable", at(0)))
        await station.call("StatusNotification", status(1, 1, "Available", at(1800)))
        report = await eventually(lambda: _ports(csms))

        ports = {p["charge_point_id"]: p for p in report["ports"]}
        assert ports[CP16]["seconds_by_status"] == {
            "Available": 7800.0,
            "Charging": 1200.0,
            "Faulted": 1800.0,
        }
        assert ports[CP201]["seconds_by_status"] == {"Available": 9000.0, "Unavailable": 1800.0}
        assert ports[CP16]["uptime_percent"] == 83.333
        assert report["fleet"] == {
            "observed_s": 6 * HOUR,
            "down_s": HOUR,
            "excluded_s": 0.0,
            "uptime_percent": 83.333,
        }

        site = await csms.api.put(
            "/api/v1/sites/depot", json={"max_power_w": 22000, "charge_points": [CP16]}
        )
        assert site.status_code == 200, site.text
        maintenance = {
            "start": at(3600),
            "end": at(4500),
            "kind": "maintenance",
            "note": "connector swap",
            "site_id": "depot",
        }
        added = await csms.api.post("/api/v1/reports/exclusions", json=maintenance)
        assert added.status_code == 201, added.text
        excluded = await _get(csms, "/api/v1/reports/availability", site="depot")
        assert [p["charge_point_id"] for p in excluded["ports"]] == [CP16]
        assert excluded["sites"] == [
            {
                "site_id": "depot",
                "observed_s": 3 * HOUR,
                "down_s": 1800.0,
                "excluded_s": 900.0,
                "uptime_percent": 91.667,
            }
        ]
        assert [e["note"] for e in excluded["exclusions"]] == ["connector swap"]

        csv = await csms.api.get("/api/v1/reports/availability", params={**PERIOD, "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0] == (
            "level,site_id,charge_point_id,connector_id,Available_h,Charging_h,Faulted_h,"
            "Unavailable_h,observed_h,down_h,excluded_h,uptime_percent"
        )
        assert f"port,depot,{CP16},1,2.167,0.333,0.5,0.0,3.0,0.5,0.25,91.667" in lines
        assert lines[-1] == "fleet,,,,,,,,6.0,1.0,0.25,87.5"

        by_cp = await _get(csms, "/api/v1/reports/utilization", group="charge_point")
        assert by_cp["rows"] == [
            {
                "group": CP16,
                "sessions": 1,
                "energy_kwh": 7.5,
                "charging_h": 0.333,
                "idle_h": 0.0,
            }
        ]
        by_hour = await csms.api.get(
            "/api/v1/reports/utilization",
            params={**PERIOD, "group": "hour_of_day", "format": "csv"},
        )
        assert by_hour.text.splitlines() == [
            "group,sessions,energy_kwh,charging_h,idle_h",
            "10,1,7.5,0.333,0.0",
        ]

        assert await csms.app.derivation.processor.rebuild() > 0  # a replay derives the same report
        assert await _get(csms, "/api/v1/reports/availability", site="depot") == excluded


async def test_offline_time_counts_as_down(csms: RunningCsms) -> None:
    for _ in range(2):  # connected, gone, back, gone: Offline from each disconnect
        async with booted(csms.ocpp_url, "REP-OFF", TestChargePoint) as cp:
            await cp.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
            )
    now = datetime.now(UTC)
    period = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + HOUR_LATER).isoformat()}

    async def twice_offline() -> dict[str, Any] | None:
        response = await csms.api.get(
            "/api/v1/reports/availability", params={**period, "charge_point": "REP-OFF"}
        )
        history = await csms.api.get("/api/v1/charge-points/REP-OFF/status-history")
        if history.status_code != 200:  # not derived yet: unknown to the API
            return None
        offline = [i for i in history.json() if i["status"] == "Offline"]
        ports = response.json()["ports"]
        return ports[0] if len(offline) == 2 and ports else None

    port = await eventually(twice_offline)
    assert set(port["seconds_by_status"]) == {"Available", "Offline"}
    assert port["down_s"] == port["seconds_by_status"]["Offline"] > 0
    assert port["uptime_percent"] < 100


async def test_offline_time_ends_at_the_reconnection(csms: RunningCsms) -> None:
    """A status queued while offline (an earlier timestamp) does not shorten the outage."""
    cp_id = "REP-BACK"
    history_path = f"/api/v1/charge-points/{cp_id}/status-history"
    async with booted(csms.ocpp_url, cp_id, TestChargePoint) as cp:
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp=_now()
            )
        )

    async def outage_start() -> datetime | None:
        history = (await csms.api.get(history_path)).json()
        offline = [i for i in history if i["status"] == "Offline"]
        return datetime.fromisoformat(offline[0]["start"]) if offline else None

    gone = await eventually(outage_start)
    await asyncio.sleep(1.5)  # the outage being measured
    async with booted(csms.ocpp_url, cp_id, TestChargePoint) as cp:
        queued = (gone + timedelta(seconds=0.5)).isoformat()
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="GroundFailure", status="Faulted", timestamp=queued
            )
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp=_now()
            )
        )

        async def settled() -> tuple[list[Any], datetime] | None:
            history = (await csms.api.get(history_path)).json()
            state = (await csms.api.get(f"/api/v1/charge-points/{cp_id}")).json()["state"]
            if [i["status"] for i in history][-1:] != ["Available"] or not state["connected"]:
                return None
            return history, datetime.fromisoformat(state["connected_since"])

        history, back = await eventually(settled)
        (offline,) = [i for i in history if i["status"] == "Offline"]
        assert datetime.fromisoformat(offline["end"]) == back
        outage = (back - gone).total_seconds()
        assert outage >= 1.5

        period = {
            "from": (gone - HOUR_LATER).isoformat(),
            "to": (back + HOUR_LATER).isoformat(),
            "charge_point": cp_id,
        }
        report = await csms.api.get("/api/v1/reports/availability", params=period)
        (port,) = report.json()["ports"]
        assert port["seconds_by_status"]["Offline"] == pytest.approx(outage, abs=0.001)
        assert port["seconds_by_status"]["Faulted"] < 1  # from the reconnection, not 0.5 s in


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def test_bounds_and_exclusion_crud(csms: RunningCsms) -> None:
    too_long = {"from": T0.isoformat(), "to": (T0 + timedelta(days=401)).isoformat()}
    refused = await csms.api.get("/api/v1/reports/availability", params=too_long)
    assert refused.status_code == 422
    backwards = {"from": at(60), "to": at(0), "group": "day"}
    assert (await csms.api.get("/api/v1/reports/utilization", params=backwards)).status_code == 422
    both = {"start": at(0), "end": at(60), "kind": "outage", "site_id": "s", "charge_point_id": "c"}
    assert (await csms.api.post("/api/v1/reports/exclusions", json=both)).status_code == 422
    fleet = await csms.api.post(
        "/api/v1/reports/exclusions", json={"start": at(0), "end": at(60), "kind": "outage"}
    )
    exclusion_id = fleet.json()["exclusion_id"]
    listed = (await csms.api.get("/api/v1/reports/exclusions")).json()
    assert [(e["exclusion_id"], e["kind"], e["site_id"]) for e in listed] == [
        (exclusion_id, "outage", None)
    ]
    path = f"/api/v1/reports/exclusions/{exclusion_id}"
    assert (await csms.api.delete(path)).status_code == 204
    assert (await csms.api.delete(path)).status_code == 404
