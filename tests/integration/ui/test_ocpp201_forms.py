"""The remote-control forms of an OCPP 2.0.1 charging station under AppTest against the real
embedded CSMS and a real 2.0.1 WebSocket station: the 2.0.1 forms are offered (not 1.6's),
each payload is valid against the 2.0.1 schema before it is sent and arrives as sent; the
bulk form sends one version's command to the charge points of that version."""

from __future__ import annotations

from typing import Any

from ocpp import v201
from ocpp.routing import on
from ocpp.v16 import call
from ocpp.v201.enums import Action as Action201
from streamlit.testing.v1 import AppTest

from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_bulk_commands import online
from tests.integration.gateway.test_charging_profiles_v201 import SmartStation, smart_station
from tests.integration.ui.test_pages import button, open_page, page, run, texts, widget
from tests.ocpp_client import at as ocpp_at
from tests.ocpp_client import charge_point


class RemoteStation(SmartStation):
    """Also answers remote start/stop, unlocking and availability, logging each request."""

    __test__ = False

    def _got(self, action: str, request: dict[str, Any]) -> None:
        self.received.append((action, request))

    @on(Action201.request_start_transaction)
    def on_start(self, **request: Any) -> Any:
        self._got("RequestStartTransaction", request)
        return v201.call_result.RequestStartTransaction(status="Accepted")

    @on(Action201.request_stop_transaction)
    def on_stop(self, **request: Any) -> Any:
        self._got("RequestStopTransaction", request)
        return v201.call_result.RequestStopTransaction(status="Accepted")

    @on(Action201.unlock_connector)
    def on_unlock(self, **request: Any) -> Any:
        self._got("UnlockConnector", request)
        return v201.call_result.UnlockConnector(status="Unlocked")

    @on(Action201.change_availability)
    def on_availability(self, **request: Any) -> Any:
        self._got("ChangeAvailability", request)
        return v201.call_result.ChangeAvailability(status="Scheduled")


async def send(at: AppTest, action: str, **values: Any) -> AppTest:
    """Choose a 2.0.1 form, fill it, check it is valid, send it."""
    at.selectbox(key="action_v201").set_value(action)
    at = await run(at)
    for key, value in values.items():
        widget(at, key).set_value(value)
    at = await run(at)
    assert not [c for c in texts(at.caption) if "Not a valid" in c], texts(at.caption)
    button(at, f"Send {action}").click()
    return await run(at)


def last(station: SmartStation, action: str) -> dict[str, Any]:
    return next(request for name, request in reversed(station.received) if name == action)


async def test_a_2_0_1_station_gets_the_2_0_1_forms(ui: RunningCsms) -> None:
    async with smart_station(ui, "CS-UI", kind=RemoteStation) as station:
        at = await open_page(page("remote_control"), cp="CS-UI")
        options = at.selectbox(key="action_v201").options
        assert "RequestStartTransaction" in options and "RemoteStartTransaction" not in options
        assert "OCPP 2.0.1 commands" in texts(at.caption)

        at = await send(at, "RequestStartTransaction", start201_token="TOKEN-1", start201_evse=2)
        assert "CS-UI answered RequestStartTransaction: **Accepted**" in texts(at.success)
        start = last(station, "RequestStartTransaction")
        assert start["id_token"] == {"id_token": "TOKEN-1", "type": "ISO14443"}
        assert start["evse_id"] == 2

        await station.call(
            v201.call.TransactionEvent(
                event_type="Started",
                timestamp=ocpp_at(0),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={"transaction_id": "ui-tx-1"},
                evse={"id": 1, "connector_id": 1},
            )
        )
        await eventually(lambda: _session_known(ui, "CS-UI"))
        at = await send(at, "RequestStopTransaction")  # the running one is offered
        assert last(station, "RequestStopTransaction") == {"transaction_id": "ui-tx-1"}

        at = await send(at, "Reset", reset201_type="Immediate")
        assert last(station, "Reset") == {"type": "Immediate"}
        at = await send(at, "UnlockConnector", unlock201_evse=1, unlock201_conn=1)
        assert last(station, "UnlockConnector") == {"evse_id": 1, "connector_id": 1}
        at = await send(
            at, "ChangeAvailability", availability201_type="Inoperative", availability201_evse=1
        )
        assert last(station, "ChangeAvailability") == {
            "operational_status": "Inoperative",
            "evse": {"id": 1},
        }
        at = await send(at, "TriggerMessage", trigger201="TransactionEvent")
        assert last(station, "TriggerMessage") == {"requested_message": "TransactionEvent"}

        at = await send(at, "SetChargingProfile", sp201_evse=1)
        assert last(station, "SetChargingProfile")["evse_id"] == 1
        at = await send(at, "ClearChargingProfile", clear_id=1)
        assert last(station, "ClearChargingProfile") == {"charging_profile_id": 1}
        at = await send(at, "GetCompositeSchedule", composite_connector=1)
        assert last(station, "GetCompositeSchedule") == {"evse_id": 1, "duration": 3600}
        at = await send(at, "GetVariables", dm_get_lines="OCPPCommCtrlr, HeartbeatInterval")
        assert "CS-UI answered GetVariables." in texts(at.success)


async def _session_known(csms: RunningCsms, cp: str) -> bool:
    response = await csms.api.get(f"/api/v1/charge-points/{cp}/sessions")
    return response.status_code == 200 and bool(response.json())


async def test_a_2_0_1_form_names_what_the_2_0_1_schema_refuses(ui: RunningCsms) -> None:
    async with smart_station(ui, "CS-UI2"):
        at = await open_page(page("remote_control"), cp="CS-UI2")
        at.selectbox(key="action_v201").set_value("SetChargingProfile")
        at = await run(at)
        assert not [c for c in texts(at.caption) if "Not a valid" in c]
        at.text_area(key="sp201_json").set_value('{"id": 1, "stackLevel": 0}')
        at = await run(at)
        assert [c for c in texts(at.caption) if "Not a valid SetChargingProfile request" in c]


async def test_the_bulk_form_sends_one_versions_command_to_that_versions_charge_points(
    ui: RunningCsms,
) -> None:
    async with (
        smart_station(ui, "CS-BULK") as station,
        charge_point(ui.ocpp_url, "CP-BULK") as cp,
    ):
        await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
        await eventually(lambda: online(ui, "CP-BULK"))
        at = await open_page(page("remote_control"))
        at.toggle(key="bulk").set_value(True)
        at = await run(at)
        assert at.multiselect(key="bulk_ids").options == ["CP-BULK"]
        at.radio(key="bulk_version").set_value("2.0.1")
        at = await run(at)
        assert at.multiselect(key="bulk_ids_v201").options == ["CS-BULK"]
        at.checkbox(key="bulk_connected").set_value(True)
        at.selectbox(key="bulk_action_v201").set_value("Reset")
        at = await run(at)
        button(at, "Send Reset to 1 charge points").click()
        at = await run(at)
        assert at.dataframe[-1].value["charge_point_id"].tolist() == ["CS-BULK"]
        assert last(station, "Reset") == {"type": "OnIdle"}
