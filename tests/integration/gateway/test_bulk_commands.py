"""POST /api/v1/commands/bulk over real WebSocket charge points: per-charge-point outcomes,
each in the command log with its sender; a filter; and what is refused before anything is sent."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest
from ocpp.v16 import call

from tests.conftest import RunningCsms, eventually
from tests.ocpp_client import TestChargePoint, charge_point

OPERATOR = {"X-Chargestream-Operator": "ada"}


async def connected(csms: RunningCsms, stack: AsyncExitStack, *ids: str) -> list[TestChargePoint]:
    points = []
    for charge_point_id in ids:
        cp = await stack.enter_async_context(charge_point(csms.ocpp_url, charge_point_id))
        await cp.call(call.BootNotification(charge_point_model="T54", charge_point_vendor="ABB"))
        points.append(cp)
    return points


async def seen_offline(csms: RunningCsms, charge_point_id: str) -> None:
    """Connect and leave, then wait until the registry says it is gone."""
    async with AsyncExitStack() as stack:
        await connected(csms, stack, charge_point_id)

    async def offline() -> bool:
        body = (await csms.api.get(f"/api/v1/charge-points/{charge_point_id}")).json()
        return body["state"] is not None and body["state"]["connected"] is False

    await eventually(offline)


async def online(csms: RunningCsms, *ids: str) -> bool:
    """The registry (derived from the log, a moment later) has them connected, with vendor."""
    for charge_point_id in ids:
        state = (await csms.api.get(f"/api/v1/charge-points/{charge_point_id}")).json()["state"]
        if not (state and state["connected"] and state["vendor"]):
            return False
    return True


async def bulk(csms: RunningCsms, body: dict[str, Any]) -> Any:
    return await csms.api.post("/api/v1/commands/bulk", json=body, headers=OPERATOR)


async def test_one_command_to_a_list_has_an_outcome_per_charge_point(csms: RunningCsms) -> None:
    await seen_offline(csms, "CP-OFF")
    async with AsyncExitStack() as stack:
        await connected(csms, stack, "CP-A", "CP-B")
        await eventually(lambda: online(csms, "CP-A", "CP-B"))
        response = await bulk(
            csms,
            {
                "action": "ChangeAvailability",
                "payload": {"connectorId": 0, "type": "Inoperative"},
                "charge_point_ids": ["CP-A", "CP-OFF", "CP-B", "CP-A"],
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3 and body["outcomes"] == {"answered": 2, "not_connected": 1}
    assert [(r["charge_point_id"], r["outcome"]) for r in body["results"]] == [
        ("CP-A", "answered"),
        ("CP-OFF", "not_connected"),
        ("CP-B", "answered"),
    ]
    assert body["results"][0]["response"] == {"status": "Accepted"}
    log = (await csms.api.get("/api/v1/commands")).json()
    assert sorted((c["charge_point_id"], c["action"], c["sent_by"]) for c in log) == [
        (cp, "ChangeAvailability", "operator:ada") for cp in ("CP-A", "CP-B", "CP-OFF")
    ]


async def test_a_filter_selects_the_connected_charge_points(csms: RunningCsms) -> None:
    await seen_offline(csms, "CP-OFF")
    async with AsyncExitStack() as stack:
        await connected(csms, stack, "CP-1", "CP-2", "CP-3")

        await eventually(lambda: online(csms, "CP-1", "CP-2", "CP-3"))
        response = await bulk(
            csms, {"action": "ClearCache", "filter": {"connected": True, "vendor": "ABB"}}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcomes"] == {"answered": 3}
    assert sorted(r["charge_point_id"] for r in body["results"]) == ["CP-1", "CP-2", "CP-3"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"action": "ClearCache", "charge_point_ids": [f"CP-{i}" for i in range(1001)]}, "1000"),
        ({"action": "ClearCache", "charge_point_ids": []}, "at least 1"),
        ({"action": "ClearCache"}, "either"),
        ({"action": "ClearCache", "charge_point_ids": ["CP-A"], "filter": {}}, "either"),
        ({"action": "ClearCache", "filter": {"colour": "red"}}, "Extra inputs"),
        ({"action": "ClearCache", "charge_point_ids": ["x" * 49]}, "at most 48"),
        (
            {"action": "Frobnicate", "charge_point_ids": ["CP-A"]},
            "not a CSMS action of OCPP 1.6 or 2.0.1",
        ),
        (
            {"action": "Reset", "payload": {"type": "Hard-ish"}, "charge_point_ids": ["CP-A"]},
            "Reset",
        ),
        (
            {
                "action": "ChangeConfiguration",
                "payload": {"key": "AuthorizationKey", "value": "0123456789abcdef0123"},
                "charge_point_ids": ["CP-A"],
            },
            "password",
        ),
        ({"action": "ClearCache", "charge_point_ids": ["CP-A", "CP-NEVER"]}, "CP-NEVER"),
    ],
)
async def test_refused_requests_send_nothing(
    csms: RunningCsms, body: dict[str, Any], reason: str
) -> None:
    async with AsyncExitStack() as stack:
        await connected(csms, stack, "CP-A")
        response = await bulk(csms, body)
    assert response.status_code == 422, response.text
    assert reason in response.text
    assert "0123456789abcdef0123" not in response.text
    assert (await csms.api.get("/api/v1/commands")).json() == []
