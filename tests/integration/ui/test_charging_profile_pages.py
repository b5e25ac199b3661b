"""The dashboard's Charging profiles page and the charge point page's Charging profiles tab
under AppTest against a real embedded CSMS and a real WebSocket charge point: an operator
defines a profile (checked before sending), installs it, sees it installed, draws the
composite schedule and clears it; a viewer may not send."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_charging_profiles import smart_charge_point
from tests.integration.ui.test_pages import (
    button,
    elements_of,
    locked,
    open_page,
    page,
    run,
    texts,
)
from tests.storage_contract import minimal_charging_profile

HOSTILE = "**x**<b>"


async def installed_ids(ui: RunningCsms, charge_point_id: str) -> list[int]:
    found = await ui.app.store.installed_charging_profiles(charge_point_id)
    return [p.charging_profile_id for p in found if p.installed]


async def test_a_profile_that_breaks_the_rules_is_not_sent(ui: RunningCsms) -> None:
    at = await open_page(page("charging_profiles"), operator="olga")
    assert "No charging profiles defined yet" in at.info[0].value
    at.text_input(key="profile_name").input("Bad")
    at.selectbox(key="profile_kind").select("Recurring")
    at.text_area(key="profile_periods").input("5, 16\n0, 8")
    button(at, "Define").click()
    await run(at)
    (message,) = texts(at.error)
    assert message.startswith("Nothing was defined: ")
    assert "needs a recurrency" in message and "first period starts at 0" in message
    assert await ui.app.store.charging_profiles() == []
    at.text_area(key="profile_periods").input("0, sixteen")
    button(at, "Define").click()
    await run(at)
    assert "period line 1 is not" in texts(at.error)[0]


async def test_an_operator_defines_installs_charts_and_clears(ui: RunningCsms) -> None:
    async with smart_charge_point(ui.ocpp_url, "CP-UI") as cp:
        at = await open_page(page("charging_profiles"), operator="olga")
        at.text_input(key="profile_name").input("Evening")
        at.selectbox(key="profile_purpose").select("TxDefaultProfile")
        at.number_input(key="profile_level").set_value(2)
        at.text_area(key="profile_periods").input("0, 16\n1800, 8.5, 1")
        button(at, "Define").click()
        await run(at)
        (message,) = texts(at.success)
        profile_id = int(message.split()[2])
        assert message == f"Charging profile {profile_id} (Evening) defined."
        (stored,) = await ui.app.store.charging_profiles()
        assert [(p.start_period, p.limit, p.number_phases) for p in stored.periods] == [
            (0, 16.0, None),
            (1800, 8.5, 1),
        ]

        at = await open_page(page("charging_profiles"), operator="olga")
        assert at.dataframe[0].value["periods"].tolist() == ["0 s: 16 A; 1800 s: 8.5 A (1 ph)"]
        at.text_input(key="install_cp").input("CP-UI")
        button(at, "Install").click()
        await run(at)
        assert texts(at.success) == [f"CP-UI installed charging profile {profile_id}."]
        assert cp.received[0][0] == "SetChargingProfile"
        await eventually(lambda: _installed(ui, "CP-UI", [profile_id]))

        at = await open_page(page("charge_point"), operator="olga", cp="CP-UI")
        at.query_params["tab"] = "Charging profiles"
        await run(at)
        table = at.dataframe[0].value
        assert table["charging_profile_id"].tolist() == [profile_id]
        button(at, "Get composite schedule").click()
        await run(at)
        assert "answered GetCompositeSchedule: **Accepted**" in at.success[0].value
        assert elements_of(at, "vega_lite_chart")
        button(at, "Clear profile").click()
        await run(at)
        assert "answered ClearChargingProfile: **Accepted**" in at.success[0].value
        assert cp.received[-1] == ("ClearChargingProfile", {"id": profile_id})
        await eventually(lambda: _installed(ui, "CP-UI", []))


async def _installed(ui: RunningCsms, charge_point_id: str, expected: list[int]) -> bool:
    return await installed_ids(ui, charge_point_id) == expected


async def test_a_viewer_sees_profiles_as_text_but_may_not_send(ui: RunningCsms) -> None:
    await ui.app.store.put_charging_profile(replace(minimal_charging_profile(7), name=HOSTILE))
    at = await open_page(page("charging_profiles"), operator="victor")
    assert at.dataframe[0].value["name"].tolist() == [HOSTILE]
    assert not any(HOSTILE in text for text in texts(at.markdown))
    for label in ("Define", "Install", "Delete profile"):
        assert button(at, label).disabled
    assert "may not send commands" in locked(at)[0]


async def test_an_operator_deletes_a_definition(ui: RunningCsms) -> None:
    await ui.app.store.put_charging_profile(minimal_charging_profile(9))
    at = await open_page(page("charging_profiles"), operator="olga")
    button(at, "Delete profile").click()
    await run(at)
    assert texts(at.success) == ["Charging profile 9 deleted."]
    assert await ui.app.store.charging_profiles() == []
