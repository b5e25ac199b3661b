"""Charging profiles over a real WebSocket charge point and the real API: definitions,
SetChargingProfile answered Accepted or Rejected, OCPP's replacement, ClearChargingProfile, a
TxProfile gone with its transaction, GetCompositeSchedule."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from tests.conftest import RunningCsms, eventually
from tests.ocpp_client import TestChargePoint, at, booted

SCHEDULE = {
    "duration": 3600,
    "charging_rate_unit": "A",
    "charging_schedule_period": [{"start_period": 0, "limit": 10.0}],
}


class SmartChargePoint(TestChargePoint):
    """Answers SetChargingProfile with ``set_answer``, ClearChargingProfile Accepted and
    GetCompositeSchedule with SCHEDULE."""

    __test__ = False
    set_answer = "Accepted"

    @on(Action.set_charging_profile)
    def on_set(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        self.received.append(
            ("SetChargingProfile", {"connector_id": connector_id, **cs_charging_profiles})
        )
        return call_result.SetChargingProfile(status=self.set_answer)

    @on(Action.clear_charging_profile)
    def on_clear(self, **criteria: Any) -> call_result.ClearChargingProfile:
        self.received.append(("ClearChargingProfile", criteria))
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def on_composite(self, **request: Any) -> call_result.GetCompositeSchedule:
        self.received.append(("GetCompositeSchedule", request))
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=request["connector_id"],
            schedule_start=at(0),
            charging_schedule=SCHEDULE,
        )


def smart_charge_point(
    url: str, charge_point_id: str
) -> AbstractAsyncContextManager[SmartChargePoint]:
    return booted(url, charge_point_id, SmartChargePoint)


def definition(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "Default 16 A",
        "stack_level": 1,
        "purpose": "TxDefaultProfile",
        "kind": "Relative",
        "unit": "A",
        "periods": [{"start_period": 0, "limit": 16.0}, {"start_period": 1800, "limit": 8.0}],
    }
    return body | changes


async def define(csms: RunningCsms, **changes: Any) -> int:
    response = await csms.api.post("/api/v1/charging-profiles", json=definition(**changes))
    assert response.status_code == 201, response.text
    profile_id: int = response.json()["profile_id"]
    return profile_id


async def install(csms: RunningCsms, cp: str, **body: Any) -> dict[str, Any]:
    response = await csms.api.post(f"/api/v1/charge-points/{cp}/charging-profiles", json=body)
    result: dict[str, Any] = {"http": response.status_code, **response.json()}
    return result


async def installed_as(csms: RunningCsms, cp: str, expected: list[tuple[int, int]]) -> list[Any]:
    """The installed profiles once they are ``expected`` (connector, id)."""

    async def probe() -> list[Any] | None:
        response = await csms.api.get(f"/api/v1/charge-points/{cp}/charging-profiles")
        assert response.status_code == 200, response.text
        found: list[Any] = response.json()
        keys = [(p["connector_id"], p["charging_profile_id"]) for p in found]
        return found if keys == expected else None

    if not expected:
        await eventually(lambda: _none_installed(csms, cp))
        return []
    return await eventually(probe)


async def _none_installed(csms: RunningCsms, cp: str) -> bool:
    response = await csms.api.get(f"/api/v1/charge-points/{cp}/charging-profiles")
    return response.status_code == 200 and response.json() == []


async def test_definitions_are_stored_listed_and_deleted(csms: RunningCsms) -> None:
    first = await define(csms)
    second = await define(csms, name="Cap", purpose="ChargePointMaxProfile", unit="W")
    assert 1 <= first < second <= 999_999_999
    got = (await csms.api.get(f"/api/v1/charging-profiles/{first}")).json()
    assert got["periods"] == [
        {"start_period": 0, "limit": 16.0, "number_phases": None},
        {"start_period": 1800, "limit": 8.0, "number_phases": None},
    ]
    listed = (await csms.api.get("/api/v1/charging-profiles")).json()
    assert [p["profile_id"] for p in listed][-2:] == [first, second]
    assert (await csms.api.delete(f"/api/v1/charging-profiles/{first}")).status_code == 204
    assert (await csms.api.get(f"/api/v1/charging-profiles/{first}")).status_code == 404
    assert (await csms.api.delete(f"/api/v1/charging-profiles/{first}")).status_code == 404


async def test_a_profile_breaking_ocpp_rules_is_refused_with_every_reason(
    csms: RunningCsms,
) -> None:
    response = await csms.api.post(
        "/api/v1/charging-profiles",
        json=definition(
            kind="Recurring",
            periods=[{"start_period": 5, "limit": 1.15}],
        ),
    )
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    for reason in ("needs a recurrency_kind", "needs a start_schedule", "starts at 0", "0.1"):
        assert reason in message
    too_many = definition(periods=[{"start_period": i, "limit": 1} for i in range(49)])
    assert (await csms.api.post("/api/v1/charging-profiles", json=too_many)).status_code == 422


async def test_an_accepted_profile_is_installed_and_replaced_by_stack_level_and_purpose(
    csms: RunningCsms,
) -> None:
    first, second = await define(csms), await define(csms, name="Lower")
    async with smart_charge_point(csms.ocpp_url, "CP-P1") as cp:
        sent = await install(csms, "CP-P1", profile_id=first, connector_id=1)
        assert (sent["http"], sent["action"], sent["response"]) == (
            200,
            "SetChargingProfile",
            {"status": "Accepted"},
        )
        ((action, payload),) = cp.received
        assert action == "SetChargingProfile"
        assert (payload["connector_id"], payload["charging_profile_id"]) == (1, first)
        assert payload["charging_schedule"]["charging_schedule_period"][1] == {
            "start_period": 1800,
            "limit": 8.0,
        }
        (row,) = await installed_as(csms, "CP-P1", [(1, first)])
        assert (row["stack_level"], row["purpose"], row["removed_at"]) == (
            1,
            "TxDefaultProfile",
            None,
        )
        await install(csms, "CP-P1", profile_id=second, connector_id=1)
        await installed_as(csms, "CP-P1", [(1, second)])
    everything = await csms.api.get(
        "/api/v1/charge-points/CP-P1/charging-profiles", params={"include_removed": "true"}
    )
    replaced = [p for p in everything.json() if p["charging_profile_id"] == first]
    assert replaced[0]["removed_by"] == "replaced"


async def test_a_rejected_profile_is_not_installed(csms: RunningCsms) -> None:
    profile_id = await define(csms)
    async with smart_charge_point(csms.ocpp_url, "CP-P2") as cp:
        cp.set_answer = "Rejected"
        sent = await install(csms, "CP-P2", profile_id=profile_id, connector_id=0)
        assert (sent["http"], sent["response"]) == (200, {"status": "Rejected"})
        cp.set_answer = "Accepted"
        other = await define(csms, name="Other", stack_level=3)
        await install(csms, "CP-P2", profile_id=other, connector_id=0)
        await installed_as(csms, "CP-P2", [(0, other)])  # derived after the rejected one


async def test_clear_charging_profile_removes_what_its_criteria_match(csms: RunningCsms) -> None:
    one, two = await define(csms), await define(csms, stack_level=2)
    async with smart_charge_point(csms.ocpp_url, "CP-P3") as cp:
        await install(csms, "CP-P3", profile_id=one, connector_id=1)
        await install(csms, "CP-P3", profile_id=two, connector_id=1)
        await installed_as(csms, "CP-P3", [(1, one), (1, two)])
        response = await csms.api.delete(
            "/api/v1/charge-points/CP-P3/charging-profiles", params={"profile_id": one}
        )
        assert (response.status_code, response.json()["action"]) == (200, "ClearChargingProfile")
        assert cp.received[-1] == ("ClearChargingProfile", {"id": one})
        await installed_as(csms, "CP-P3", [(1, two)])
        everything = await csms.api.delete(
            "/api/v1/charge-points/CP-P3/charging-profiles",
            params={"connector_id": 1, "purpose": "TxDefaultProfile"},
        )
        assert everything.status_code == 200
        assert cp.received[-1] == (
            "ClearChargingProfile",
            {"connector_id": 1, "charging_profile_purpose": "TxDefaultProfile"},
        )
        await installed_as(csms, "CP-P3", [])


async def test_a_tx_profile_needs_a_transaction_and_goes_when_it_stops(csms: RunningCsms) -> None:
    tx_profile = await define(csms, purpose="TxProfile", stack_level=0)
    async with smart_charge_point(csms.ocpp_url, "CP-P4") as cp:
        refused = await csms.api.post(
            "/api/v1/charge-points/CP-P4/charging-profiles",
            json={"profile_id": tx_profile, "connector_id": 1},
        )
        assert refused.status_code == 422 and "needs a transaction_id" in refused.text
        started = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG-1", meter_start=0, timestamp=at(0))
        )
        tx = started.transaction_id
        sent = await install(
            csms, "CP-P4", profile_id=tx_profile, connector_id=1, transaction_id=tx
        )
        assert sent["http"] == 200
        assert cp.received[-1][1]["transaction_id"] == tx
        (row,) = await installed_as(csms, "CP-P4", [(1, tx_profile)])
        assert row["transaction_id"] == tx
        await cp.call(call.StopTransaction(meter_stop=100, timestamp=at(60), transaction_id=tx))
        await installed_as(csms, "CP-P4", [])


async def test_composite_schedule_is_the_charge_points_answer(csms: RunningCsms) -> None:
    async with smart_charge_point(csms.ocpp_url, "CP-P5") as cp:
        response = await csms.api.get(
            "/api/v1/charge-points/CP-P5/composite-schedule",
            params={"connector_id": 1, "duration": 3600, "unit": "A"},
        )
        assert response.status_code == 200, response.text
        answer = response.json()["response"]
        assert answer["status"] == "Accepted"
        assert answer["chargingSchedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 10.0}
        ]
        assert cp.received[-1] == (
            "GetCompositeSchedule",
            {"connector_id": 1, "duration": 3600, "charging_rate_unit": "A"},
        )


async def test_unknown_profiles_charge_points_and_silent_ones(csms: RunningCsms) -> None:
    profile_id = await define(csms)
    unknown = await csms.api.post(
        "/api/v1/charge-points/CP-NOBODY/charging-profiles",
        json={"profile_id": profile_id, "connector_id": 1},
    )
    assert unknown.status_code == 404
    async with smart_charge_point(csms.ocpp_url, "CP-P6"):
        missing = await csms.api.post(
            "/api/v1/charge-points/CP-P6/charging-profiles",
            json={"profile_id": 999_999_998, "connector_id": 1},
        )
        assert missing.status_code == 404

    async def not_connected() -> dict[str, Any] | None:
        result = await install(csms, "CP-P6", profile_id=profile_id, connector_id=1)
        return result if result["http"] == 409 else None

    assert (await eventually(not_connected))["outcome"] == "not_connected"


async def test_replay_rebuilds_the_same_installed_profiles(csms: RunningCsms) -> None:
    one, two = await define(csms), await define(csms, stack_level=2)
    async with smart_charge_point(csms.ocpp_url, "CP-P7"):
        await install(csms, "CP-P7", profile_id=one, connector_id=1)
        await install(csms, "CP-P7", profile_id=two, connector_id=2)
        await install(csms, "CP-P7", profile_id=one, connector_id=2)  # the same id moves
        await csms.api.delete(
            "/api/v1/charge-points/CP-P7/charging-profiles", params={"profile_id": two}
        )
        await installed_as(csms, "CP-P7", [(2, one)])
    store, processor = csms.app.store, csms.app.derivation.processor
    before = await store.installed_charging_profiles("CP-P7")
    assert len(before) == 3
    assert await processor.rebuild() > 0
    assert await store.installed_charging_profiles("CP-P7") == before
