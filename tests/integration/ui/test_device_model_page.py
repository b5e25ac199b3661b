"""The charge point page's Device model tab under AppTest against a real embedded CSMS: the
variables a 2.0.1 station reported over a real WebSocket, shown as text and filtered; the
forms an operator sends and a viewer may not."""

from __future__ import annotations

from chargestream.domain.records import ChargePointState
from tests.conftest import RunningCsms, eventually
from tests.integration.streams.test_device_model import CP
from tests.integration.ui.test_pages import button, locked, open_page, page, run, texts
from tests.ocpp201_device_model import notify_report
from tests.ocpp201_frames import boot
from tests.ocpp_client import raw_station

TAB = {"cp": CP, "tab": "Device model"}


async def reported(csms: RunningCsms) -> None:
    """A NotifyReport (with markup for a value) from a 2.0.1 station, derived into the store."""
    async with raw_station(csms.ocpp_url, CP) as station:
        await station.call("BootNotification", boot())
        await station.call("NotifyReport", notify_report())

    async def derived() -> int:
        return len(await csms.app.store.device_variables(CP))

    await eventually(derived)


async def test_the_device_model_tab_shows_every_variable_as_text_and_filters(
    ui: RunningCsms,
) -> None:
    await reported(ui)
    at = await open_page(page("charge_point"), **TAB)
    table = at.dataframe[-1].value
    assert table["component"].tolist() == [
        "Connector",
        "Connector",
        "EVSE",
        "OCPPCommCtrlr",
        "SecurityCtrlr",
    ]
    identity = table[table["variable"] == "Identity"].iloc[0]
    assert (identity["value"], identity["constant"]) == ("<b>cp</b>", "yes")
    assert not any("<b>cp</b>" in t for t in texts(at.markdown))
    heartbeat = table[table["variable"] == "HeartbeatInterval"].iloc[0]
    assert "unit=s" in heartbeat["characteristics"]
    at.text_input(key="device_model_filter").set_value("power")
    at = await run(at)
    shown = at.dataframe[-1].value
    assert shown["attribute_type"].tolist() == ["Actual", "Target"]
    assert "2 of 5 variable attributes" in texts(at.caption)


async def test_an_operator_sends_a_get_base_report_a_viewer_may_not(ui: RunningCsms) -> None:
    await ui.app.store.upsert([ChargePointState(CP)])
    at = await open_page(page("charge_point"), operator="victor", **TAB)
    assert "No device model yet" in texts(at.info)[0]
    assert button(at, "Send GetBaseReport").disabled
    assert any("send commands" in note for note in locked(at))
    at = await open_page(page("charge_point"), **TAB)
    at.selectbox(key="device_model_action").set_value("GetVariables")
    at = await run(at)
    at.text_area(key="dm_get_lines").set_value("OCPPCommCtrlr, HeartbeatInterval")
    at = await run(at)
    assert not any("Not a valid" in c for c in texts(at.caption))
    at.selectbox(key="device_model_action").set_value("GetBaseReport")
    at = await run(at)
    assert not any("Not a valid" in c for c in texts(at.caption))
    button(at, "Send GetBaseReport").click()
    at = await run(at)
    assert at.error  # the charge point is not connected (nor, yet, a 2.0.1 one): not sent
