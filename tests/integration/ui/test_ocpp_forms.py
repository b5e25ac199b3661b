"""The remote-control forms for every OCPP 1.6 central-system action and the bulk form,
under AppTest against a real embedded CSMS and real WebSocket charge points."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import date
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_bulk_commands import online, seen_offline
from tests.integration.ui.test_pages import button, locked, open_page, page, run, send, texts
from tests.ocpp_client import TestChargePoint, booted, charge_point


class FullChargePoint(TestChargePoint):
    """A test charge point that also answers reservations, the local list, smart charging,
    firmware and diagnostics."""

    __test__ = False

    def _got(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append((action, payload))

    @on(Action.reserve_now)
    def on_reserve_now(self, **payload: Any) -> call_result.ReserveNow:
        self._got("ReserveNow", payload)
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **payload: Any) -> call_result.CancelReservation:
        self._got("CancelReservation", payload)
        return call_result.CancelReservation(status="Rejected")

    @on(Action.send_local_list)
    def on_send_local_list(self, **payload: Any) -> call_result.SendLocalList:
        self._got("SendLocalList", payload)
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=7)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **payload: Any) -> call_result.SetChargingProfile:
        self._got("SetChargingProfile", payload)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **payload: Any) -> call_result.ClearChargingProfile:
        self._got("ClearChargingProfile", payload)
        return call_result.ClearChargingProfile(status="Unknown")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, **payload: Any) -> call_result.GetCompositeSchedule:
        self._got("GetCompositeSchedule", payload)
        return call_result.GetCompositeSchedule(status="Rejected")

    @on(Action.update_firmware)
    def on_update_firmware(self, **payload: Any) -> call_result.UpdateFirmware:
        self._got("UpdateFirmware", payload)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, **payload: Any) -> call_result.GetDiagnostics:
        self._got("GetDiagnostics", payload)
        return call_result.GetDiagnostics(file_name="diagnostics.zip")


def full_charge_point(
    url: str, charge_point_id: str
) -> AbstractAsyncContextManager[FullChargePoint]:
    return booted(url, charge_point_id, FullChargePoint)


def received(cp: TestChargePoint, action: str) -> dict[str, Any]:
    (payload,) = [p for a, p in cp.received if a == action]
    return payload


async def test_every_ocpp_16_form_sends_and_shows_the_answer(ui: RunningCsms) -> None:
    async with full_charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await eventually(lambda: online(ui, "CP-LIVE"))
        at = await open_page(page("remote_control"), cp="CP-LIVE")
        at = await send(
            at,
            "ReserveNow",
            reserve_connector=1,
            reserve_tag="04A2B3C4",
            reserve_id=42,
            reserve_expiry_day=date(2030, 1, 2),
        )
        assert texts(at.success) == ["CP-LIVE answered ReserveNow: **Accepted**"]
        reservation = received(cp, "ReserveNow")
        assert reservation["reservation_id"] == 42 and reservation["id_tag"] == "04A2B3C4"
        assert reservation["expiry_date"].startswith("2030-01-02T")
        at = await send(at, "CancelReservation", cancel_id=42)
        assert "CancelReservation: **Rejected**" in texts(at.warning)[0]
        at = await send(
            at,
            "SendLocalList",
            local_version=3,
            local_entries="04A2B3C4,Accepted\n\nDEADBEEF, Blocked\nOLDTAG",
        )
        assert "SendLocalList: **Accepted**" in at.success[0].value
        assert received(cp, "SendLocalList")["local_authorization_list"] == [
            {"id_tag": "04A2B3C4", "id_tag_info": {"status": "Accepted"}},
            {"id_tag": "DEADBEEF", "id_tag_info": {"status": "Blocked"}},
            {"id_tag": "OLDTAG"},
        ]
        at = await send(at, "GetLocalListVersion")
        assert texts(at.success) == ["CP-LIVE answered GetLocalListVersion."]
        at = await send(at, "SetChargingProfile", profile_connector=1)
        assert "SetChargingProfile: **Accepted**" in at.success[0].value
        profile = received(cp, "SetChargingProfile")["cs_charging_profiles"]
        assert profile["charging_schedule"]["charging_schedule_period"][0]["limit"] == 16.0
        at = await send(at, "ClearChargingProfile", clear_purpose="TxProfile")
        assert received(cp, "ClearChargingProfile") == {"charging_profile_purpose": "TxProfile"}
        at = await send(at, "GetCompositeSchedule", composite_s=600, composite_unit="W")
        assert received(cp, "GetCompositeSchedule") == {
            "connector_id": 0,
            "duration": 600,
            "charging_rate_unit": "W",
        }
        at = await send(
            at, "UpdateFirmware", update_location="https://fw.example/1.2.bin", update_r=2
        )
        assert texts(at.success) == ["CP-LIVE answered UpdateFirmware."]
        assert received(cp, "UpdateFirmware")["retries"] == 2
        at = await send(
            at,
            "GetDiagnostics",
            diagnostics_location="ftp://logs.example/up",
            diagnostics_window=True,
        )
        assert set(received(cp, "GetDiagnostics")) == {"location", "start_time", "stop_time"}
        at = await send(at, "DataTransfer", transfer_vendor="com.example", transfer_data="ping")
        assert "DataTransfer: **Accepted**" in at.success[0].value
    actions = [c.action for c in await ui.app.store.commands("CP-LIVE")]
    assert len(actions) == 10 and set(actions) >= {"ReserveNow", "DataTransfer"}


async def test_a_form_shows_what_its_schema_says_before_sending(ui: RunningCsms) -> None:
    async with full_charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await eventually(lambda: online(ui, "CP-LIVE"))
        at = await open_page(page("remote_control"), cp="CP-LIVE")
        at.selectbox(key="action").set_value("SetChargingProfile")
        at = await run(at)
        assert not [c for c in texts(at.caption) if "Not a valid" in c]
        at.text_area(key="profile_json").set_value('{"chargingProfileId": 1')
        at = await run(at)
        assert texts(at.warning)[0].startswith("Not JSON")
        assert [c for c in texts(at.caption) if "Not a valid SetChargingProfile request" in c]
        at.text_area(key="profile_json").set_value('{"chargingProfileId": 1}')
        at = await run(at)
        assert [c for c in texts(at.caption) if "Not a valid SetChargingProfile request" in c]
        button(at, "Send SetChargingProfile").click()
        at = await run(at)
        assert "SetChargingProfile was not sent: the request is invalid" in at.error[0].value
    assert not [a for a, _ in cp.received if a == "SetChargingProfile"]


async def test_certificate_signed_is_for_admins(ui: RunningCsms) -> None:
    async with charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
        await eventually(lambda: online(ui, "CP-LIVE"))
        at = await open_page(page("remote_control"), operator="olga", cp="CP-LIVE")
        at.selectbox(key="action").set_value("CertificateSigned")
        at = await run(at)
        assert button(at, "Send CertificateSigned").disabled
        assert locked(at) and "needs the role admin" in locked(at)[0]


async def test_the_bulk_form_lists_an_outcome_per_charge_point(ui: RunningCsms) -> None:
    await seen_offline(ui, "CP-OFF")
    async with AsyncExitStack() as stack:
        for charge_point_id in ("CP-A", "CP-B"):
            cp = await stack.enter_async_context(charge_point(ui.ocpp_url, charge_point_id))
            await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
        await eventually(lambda: online(ui, "CP-A", "CP-B"))
        at = await open_page(page("remote_control"))
        at.toggle(key="bulk").set_value(True)
        at = await run(at)
        assert button(at, "Send ChangeConfiguration to 0 charge points").disabled
        at.multiselect(key="bulk_ids").set_value(["CP-A", "CP-OFF", "CP-B"])
        at.selectbox(key="bulk_action").set_value("ClearCache")
        at = await run(at)
        button(at, "Send ClearCache to 3 charge points").click()
        at = await run(at)
        results = at.dataframe[-1].value
        assert results["charge_point_id"].tolist() == ["CP-A", "CP-OFF", "CP-B"]
        assert [list(o) for o in results["outcome"]] == [
            ["answered"],
            ["not_connected"],
            ["answered"],
        ]
        assert "answered: 2 · not_connected: 1" in texts(at.caption)
        at.checkbox(key="bulk_connected").set_value(True)
        at = await run(at)
        button(at, "Send ClearCache to 2 charge points").click()
        at = await run(at)
        assert at.dataframe[-1].value["charge_point_id"].tolist() == ["CP-A", "CP-B"]
    log = await ui.app.store.commands(None)
    assert len(log) == 5 and {c.sent_by for c in log} == {"operator:alice"}


async def test_a_viewer_may_not_send_in_bulk(ui: RunningCsms) -> None:
    async with charge_point(ui.ocpp_url, "CP-A") as cp:
        await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
        await eventually(lambda: online(ui, "CP-A"))
        at = await open_page(page("remote_control"), operator="victor")
        at.toggle(key="bulk").set_value(True)
        at = await run(at)
        at.multiselect(key="bulk_ids").set_value(["CP-A"])
        at.selectbox(key="bulk_action").set_value("Reset")
        at = await run(at)
        assert button(at, "Send Reset to 1 charge points").disabled
    assert await ui.app.store.commands(None) == []
