"""The charge point page's Local list tab under AppTest against a real embedded CSMS and a
real WebSocket charge point keeping a list: an operator assigns id tags, the page shows the
desired and confirmed versions until in sync; a viewer may not assign."""

from __future__ import annotations

import streamlit as st

from chargestream.domain.records import ChargePointState
from tests.conftest import RunningCsms
from tests.integration.gateway import test_local_lists
from tests.integration.gateway.test_local_lists import (
    ListKeepingChargePoint,
    in_sync_at,
    known,
    put_tag,
)
from tests.integration.ui.test_pages import button, locked, metrics, open_page, page, run, texts
from tests.ocpp_client import booted

csms_settings = test_local_lists.csms_settings  # controllers' passes every 0.2 s

HOSTILE = "**b**:red[x]"


async def test_an_operator_assigns_id_tags_and_sees_the_list_in_sync(ui: RunningCsms) -> None:
    await put_tag(ui, HOSTILE, status="Blocked")
    async with booted(ui.ocpp_url, "CP-LL", ListKeepingChargePoint) as cp:
        await known(ui, "CP-LL")
        tab = {"cp": "CP-LL", "tab": "Local list"}
        at = await open_page(page("charge_point"), operator="olga", **tab)
        assert "No local list assigned." in texts(at.info)
        at.text_area(key="local_list_tags").set_value(f"{HOSTILE}, OTHER")
        button(at, "Set local list").click()
        at = await run(at)
        assert any("version 10000" in t for t in texts(at.success))
        await in_sync_at(ui.api, "CP-LL", 10000)
        assert cp.held == {HOSTILE: {"status": "Blocked"}}
    st.cache_data.clear()
    at = await open_page(page("charge_point"), operator="olga", **tab)
    shown = metrics(at)
    assert (shown["Desired version"], shown["Confirmed version"], shown["In sync"]) == (
        "10000",
        "10000",
        "Yes",
    )
    assert at.dataframe[-1].value["Id tag"].tolist() == [HOSTILE, "OTHER"]
    assert not any(HOSTILE in t for t in texts(at.markdown))


async def test_a_viewer_may_not_assign_a_local_list(ui: RunningCsms) -> None:
    await ui.app.store.upsert([ChargePointState("CP-LV")])
    at = await open_page(page("charge_point"), operator="victor", cp="CP-LV", tab="Local list")
    assert button(at, "Set local list").disabled
    assert any("send commands" in note for note in locked(at))
