"""Firmware campaigns over real WebSocket charge points and the real API: UpdateFirmware in
waves, each target's progress from its FirmwareStatusNotifications and its next boot's
firmware version, a charge point not connected, cancelling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from chargestream.domain.settings import Settings
from tests.conftest import RunningCsms, eventually, make_settings
from tests.ocpp_client import TestChargePoint, booted

LOCATION = "https://firmware.example/cp-2.0.bin"


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", control_interval=0.1)


class FirmwareChargePoint(TestChargePoint):
    """Accepts UpdateFirmware; the test reports its progress."""

    __test__ = False

    @on(Action.update_firmware)
    def on_update_firmware(self, **payload: Any) -> call_result.UpdateFirmware:
        self.received.append(("UpdateFirmware", payload))
        return call_result.UpdateFirmware()

    async def boot(self, firmware_version: str) -> None:
        await self.call(
            call.BootNotification(
                charge_point_model="T", charge_point_vendor="V", firmware_version=firmware_version
            )
        )

    async def report(self, *statuses: str) -> None:
        for status in statuses:
            await self.call(call.FirmwareStatusNotification(status=status))


@asynccontextmanager
async def fleet(csms: RunningCsms, *ids: str) -> AsyncIterator[dict[str, FirmwareChargePoint]]:
    """Charge points booted with firmware 1.0, once the CSMS shows that version."""
    async with AsyncExitStack() as stack:
        cps = {
            i: await stack.enter_async_context(booted(csms.ocpp_url, i, FirmwareChargePoint))
            for i in ids
        }
        for cp in cps.values():
            await cp.boot("1.0")
        for i in ids:
            await eventually(lambda i=i: firmware_is(csms, i, "1.0"))
        yield cps


async def firmware_is(csms: RunningCsms, charge_point_id: str, version: str) -> bool:
    response = await csms.api.get(f"/api/v1/charge-points/{charge_point_id}")
    state = response.json().get("state") if response.status_code == 200 else None
    return bool(state) and state["firmware_version"] == version


async def create(csms: RunningCsms, **body: Any) -> Any:
    payload = {"location": LOCATION, "retrieve_date": datetime.now(UTC).isoformat(), **body}
    response = await csms.api.post("/api/v1/firmware-campaigns", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def targets(progress: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["charge_point_id"]: t for t in progress["targets"]}


async def states_are(csms: RunningCsms, campaign_id: str, **wanted: str) -> dict[str, Any]:
    """The campaign's progress once the named targets are in the wanted states."""

    async def probe() -> dict[str, Any] | None:
        response = await csms.api.get(f"/api/v1/firmware-campaigns/{campaign_id}")
        assert response.status_code == 200, response.text
        progress: dict[str, Any] = response.json()
        now = {cp: t["state"] for cp, t in targets(progress).items()}
        return progress if all(now[cp] == state for cp, state in wanted.items()) else None

    return await eventually(probe)


def update_firmware_count(cp: FirmwareChargePoint) -> int:
    return sum(action == "UpdateFirmware" for action, _ in cp.received)


async def sent_to(cp: FirmwareChargePoint) -> bool:
    return update_firmware_count(cp) == 1


async def test_a_campaign_rolls_out_in_waves_and_tracks_each_charge_point(
    csms: RunningCsms,
) -> None:
    async with fleet(csms, "CP-F1", "CP-F2", "CP-F3") as cps:
        made = await create(csms, charge_points=["CP-F1", "CP-F2", "CP-F3"], wave_size=2, retries=2)
        cid = made["campaign"]["campaign_id"]
        assert made["campaign"]["targets"] == {"CP-F1": "1.0", "CP-F2": "1.0", "CP-F3": "1.0"}
        assert made["counts"]["pending"] == 3 and made["status"] == "running"

        await states_are(csms, cid, **{"CP-F1": "sent", "CP-F2": "sent", "CP-F3": "pending"})
        ((_, sent),) = cps["CP-F1"].received
        assert (sent["location"], sent["retries"]) == (LOCATION, 2)
        await cps["CP-F1"].report("Downloading")
        await states_are(csms, cid, **{"CP-F1": "downloading"})
        await cps["CP-F1"].report("Downloaded", "Installing")
        await states_are(csms, cid, **{"CP-F1": "installing"})
        assert update_firmware_count(cps["CP-F3"]) == 0  # two in flight: the wave is full

        await cps["CP-F1"].report("Installed")
        await cps["CP-F1"].boot("2.0")
        await cps["CP-F2"].report("Downloading", "DownloadFailed")
        await eventually(lambda: sent_to(cps["CP-F3"]))
        await cps["CP-F3"].boot("2.0")  # no status notification: the new version says it
        done = await states_are(
            csms, cid, **{"CP-F1": "installed", "CP-F2": "failed", "CP-F3": "installed"}
        )

    assert done["status"] == "finished"
    assert (done["counts"]["installed"], done["counts"]["failed"]) == (2, 1)
    first, failed, third = (targets(done)[cp] for cp in ("CP-F1", "CP-F2", "CP-F3"))
    assert (first["firmware_before"], first["firmware_after"], first["status"]) == (
        "1.0",
        "2.0",
        "Installed",
    )
    assert first["command_outcome"] == "answered" and first["status_at"] is not None
    assert (failed["status"], failed["reason"]) == (
        "DownloadFailed",
        "the charge point reported DownloadFailed",
    )
    assert (third["firmware_after"], third["status"]) == ("2.0", None)
    assert update_firmware_count(cps["CP-F1"]) == 1  # never sent twice
    listing = (await csms.api.get("/api/v1/firmware-campaigns")).json()
    assert [c["campaign"]["campaign_id"] for c in listing] == [cid]
    commands = (await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-F1"})).json()
    assert [c["sent_by"] for c in commands if c["action"] == "UpdateFirmware"] == [
        f"campaign:{cid}"
    ]
    assert await csms.app.derivation.processor.rebuild() > 0  # replay derives the same progress
    assert (await csms.api.get(f"/api/v1/firmware-campaigns/{cid}")).json() == done


async def test_a_charge_point_not_connected_fails_and_cancel_stops_further_waves(
    csms: RunningCsms,
) -> None:
    registered = await csms.api.put("/api/v1/charge-points/CP-OFF", json={})
    assert registered.status_code in (200, 201), registered.text
    async with fleet(csms, "CP-C1", "CP-C2") as cps:
        made = await create(csms, charge_points=["CP-OFF", "CP-C1", "CP-C2"], wave_size=1)
        cid = made["campaign"]["campaign_id"]
        progress = await states_are(csms, cid, **{"CP-OFF": "failed", "CP-C1": "sent"})
        assert targets(progress)["CP-OFF"]["reason"] == "UpdateFirmware not_connected"

        cancelled = await csms.api.post(f"/api/v1/firmware-campaigns/{cid}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["campaign"]["cancelled_at"] is not None
        await cps["CP-C1"].report("Downloading", "Downloaded", "Installing", "Installed")
        progress = await states_are(csms, cid, **{"CP-C1": "installed", "CP-C2": "pending"})
        assert progress["status"] == "cancelled"
        assert update_firmware_count(cps["CP-C2"]) == 0


async def test_refused_campaigns_create_nothing(csms: RunningCsms) -> None:
    async with fleet(csms, "CP-X1"):
        now = datetime.now(UTC).isoformat()
        refused = [
            {"location": "file:///etc/passwd", "retrieve_date": now, "charge_points": ["CP-X1"]},
            {"location": "https://a b/x", "retrieve_date": now, "charge_points": ["CP-X1"]},
            {
                "location": "https://x/" + "a" * 600,
                "retrieve_date": now,
                "charge_points": ["CP-X1"],
            },
            {"location": LOCATION, "retrieve_date": now, "charge_points": ["CP-NOBODY"]},
            {"location": LOCATION, "retrieve_date": now},
            {
                "location": LOCATION,
                "retrieve_date": "9999-12-31T00:00:00Z",
                "charge_points": ["CP-X1"],
            },
            {
                "location": LOCATION,
                "retrieve_date": "1999-12-31T00:00:00Z",
                "charge_points": ["CP-X1"],
            },
            {
                "location": LOCATION,
                "retrieve_date": now,
                "charge_points": ["CP-X1"],
                "wave_size": 0,
            },
        ]
        for body in refused:
            response = await csms.api.post("/api/v1/firmware-campaigns", json=body)
            assert response.status_code == 422, (body, response.text)
        matched = await create(csms, filter={"connected": True})
        assert list(matched["campaign"]["targets"]) == ["CP-X1"]
    unknown = await csms.api.get("/api/v1/firmware-campaigns/20990101000000-deadbeef")
    assert unknown.status_code == 404
    listing = (await csms.api.get("/api/v1/firmware-campaigns")).json()
    assert len(listing) == 1
