"""Local Authorization Lists kept in sync by the CSMS, over a real WebSocket charge point that
keeps a list like a charger (versions, Full and Differential, VersionMismatch) and the real
API: a list in parts, a blocked id tag reaching it, a VersionMismatch answered with a Full,
the version checked again after a reconnect."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from chargestream.domain.settings import Settings
from tests.conftest import RunningCsms, eventually, make_settings
from tests.ocpp_client import TestChargePoint, booted


class ListKeepingChargePoint(TestChargePoint):
    """Holds a local list: ``held`` (id tag -> idTagInfo) at ``version``; sends at most 2
    entries per SendLocalList; answers the next Differential VersionMismatch if told to."""

    __test__ = False
    start_version = 7  # a list of before, unknown to the CSMS
    start_held: ClassVar[dict[str, dict[str, Any]]] = {"OLD": {"status": "Accepted"}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = self.start_version
        self.held = dict(self.start_held)
        self.mismatch_next = False
        self.configuration |= {"SendLocalListMaxLength": "2", "LocalAuthListMaxLength": "100"}

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        self.received.append(("GetLocalListVersion", {}))
        return call_result.GetLocalListVersion(list_version=self.version)

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
    ) -> call_result.SendLocalList:
        entries = local_authorization_list or []
        self.received.append(("SendLocalList", {"version": list_version, "type": update_type}))
        if update_type == "Differential":
            if self.mismatch_next or list_version <= self.version:
                self.mismatch_next = False
                return call_result.SendLocalList(status="VersionMismatch")
        else:
            self.held = {}
        for entry in entries:
            info = entry.get("id_tag_info")
            if info is None:
                self.held.pop(entry["id_tag"], None)
            else:
                self.held[entry["id_tag"]] = info
        self.version = list_version
        return call_result.SendLocalList(status="Accepted")

    def sent_lists(self) -> list[tuple[str, int]]:
        return [
            (m["type"], m["version"]) for action, m in self.received if action == "SendLocalList"
        ]


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", control_interval=0.2)


async def put_tag(csms: RunningCsms, id_tag: str, **definition: Any) -> None:
    response = await csms.api.put(f"/api/v1/id-tags/{id_tag}", json=definition)
    assert response.status_code == 200, response.text


async def known(csms: RunningCsms, charge_point_id: str) -> None:
    async def probe() -> bool:
        response = await csms.api.get(f"/api/v1/charge-points/{charge_point_id}")
        return response.status_code == 200

    await eventually(probe)


async def in_sync_at(
    api: httpx.AsyncClient, charge_point_id: str, version: int, timeout: float = 15
) -> dict[str, Any]:
    """The list as GET shows it once the charge point confirmed ``version``."""

    async def probe() -> dict[str, Any] | None:
        response = await api.get(f"/api/v1/charge-points/{charge_point_id}/local-list")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["in_sync"] and body["confirmed_version"] == version else None

    return await eventually(probe, timeout=timeout, interval=0.2)


async def assign(csms: RunningCsms, charge_point_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await csms.api.put(f"/api/v1/charge-points/{charge_point_id}/local-list", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_list_reaches_the_charge_point_in_parts_and_a_blocked_tag_follows(
    csms: RunningCsms,
) -> None:
    await put_tag(csms, "TAG-A")
    await put_tag(csms, "TAG-B", status="Blocked")
    await put_tag(csms, "TAG-C", expiry_date="2030-01-02T03:04:05Z", parent_id_tag="TAG-A")
    await put_tag(csms, "TAG-X")  # not on the list
    async with booted(csms.ocpp_url, "CP-L1", ListKeepingChargePoint) as cp:
        await known(csms, "CP-L1")
        assigned = await assign(csms, "CP-L1", {"tags": ["TAG-C", "TAG-B", "TAG-A", "NOPE"]})
        assert (assigned["mode"], assigned["desired_version"]) == ("tags", 10000)
        assert assigned["tags"] == ["NOPE", "TAG-A", "TAG-B", "TAG-C"]

        shown = await in_sync_at(csms.api, "CP-L1", 10000)
        assert (shown["send_max_length"], shown["list_max_length"]) == (2, 100)
        assert shown["last_status"] == "Accepted" and shown["problem"] is None
        # the charge point's list of before is unknown: a Full, in two parts of at most 2
        assert cp.sent_lists() == [("Full", 9999), ("Differential", 10000)]
        assert cp.held == {
            "TAG-A": {"status": "Accepted"},
            "TAG-B": {"status": "Blocked"},
            "TAG-C": {
                "status": "Accepted",
                "expiry_date": "2030-01-02T03:04:05.000Z",
                "parent_id_tag": "TAG-A",
            },
        }
        assert cp.received[0] == ("GetLocalListVersion", {})

        await put_tag(csms, "TAG-A", status="Blocked")  # reaches every list holding it
        await put_tag(csms, "TAG-X", status="Blocked")  # held by none: no new version
        await in_sync_at(csms.api, "CP-L1", 20000)
        assert cp.sent_lists()[2:] == [("Differential", 20000)]
        assert cp.held["TAG-A"] == {"status": "Blocked"}

        deleted = await csms.api.delete("/api/v1/id-tags/TAG-B")
        assert deleted.status_code == 204
        await in_sync_at(csms.api, "CP-L1", 30000)
        assert "TAG-B" not in cp.held and cp.version == 30000

    store = csms.app.store
    before = (await store.local_list_state("CP-L1"), await store.local_list_entries("CP-L1"))
    assert await csms.app.derivation.processor.rebuild() > 0  # replay derives the same list views
    assert (await store.local_list_state("CP-L1"), await store.local_list_entries("CP-L1")) == (
        before
    )


async def test_a_version_mismatch_is_answered_with_a_full_list(csms: RunningCsms) -> None:
    await put_tag(csms, "TAG-1")
    async with booted(csms.ocpp_url, "CP-L2", ListKeepingChargePoint) as cp:
        await known(csms, "CP-L2")
        await assign(csms, "CP-L2", {"mode": "all"})
        await in_sync_at(csms.api, "CP-L2", 10000)
        cp.mismatch_next = True
        await put_tag(csms, "TAG-2")
        await in_sync_at(csms.api, "CP-L2", 20000)
        assert cp.sent_lists() == [("Full", 10000), ("Differential", 20000), ("Full", 20000)]
        assert set(cp.held) == {"TAG-1", "TAG-2"}


class EmptiedChargePoint(ListKeepingChargePoint):
    """The same charge point after a reset that emptied its list."""

    __test__ = False
    start_version = 0
    start_held: ClassVar[dict[str, dict[str, Any]]] = {}


async def test_after_a_reconnect_the_version_is_checked_and_the_list_caught_up(
    csms: RunningCsms,
) -> None:
    await put_tag(csms, "TAG-R")
    async with booted(csms.ocpp_url, "CP-L3", ListKeepingChargePoint):
        await known(csms, "CP-L3")
        await assign(csms, "CP-L3", {"tags": ["TAG-R"]})
        await in_sync_at(csms.api, "CP-L3", 10000)
    async with booted(csms.ocpp_url, "CP-L3", EmptiedChargePoint) as again:

        async def checked() -> bool:
            return ("GetLocalListVersion", {}) in again.received and again.version == 10000

        await eventually(checked, timeout=15)
        # the empty list (version 0) is known: the missing entry goes as a Differential
        assert again.sent_lists() == [("Differential", 10000)]
        assert again.held == {"TAG-R": {"status": "Accepted"}}
        await in_sync_at(csms.api, "CP-L3", 10000)


async def test_local_list_requests_are_validated(csms: RunningCsms) -> None:
    async with booted(csms.ocpp_url, "CP-L4", ListKeepingChargePoint):
        await known(csms, "CP-L4")
        url = "/api/v1/charge-points/CP-L4/local-list"
        assert (await csms.api.get(url)).status_code == 404  # none assigned
        for body in ({}, {"mode": "all", "tags": ["A"]}, {"tags": ["x" * 21]}, {"mode": "x"}):
            assert (await csms.api.put(url, json=body)).status_code == 422, body
        unknown = await csms.api.put("/api/v1/charge-points/NOBODY/local-list", json={"tags": []})
        assert unknown.status_code == 404
        first = await assign(csms, "CP-L4", {"tags": ["A", "B"]})
        same = await assign(csms, "CP-L4", {"mode": "tags", "tags": ["B", "A", "A"]})
        assert first["desired_version"] == same["desired_version"] == 10000
        assert (await assign(csms, "CP-L4", {"tags": []}))["desired_version"] == 20000
