"""The dashboard's Sites page under AppTest against a real embedded CSMS: an operator sets a
site through the API; every role sees its limit and sessions, allocated against measured."""

from __future__ import annotations

from datetime import UTC, datetime

from chargestream.domain.records import MeterValue, Session, Site, SiteAllocation
from tests.conftest import RunningCsms
from tests.integration.ui.test_pages import button, locked, metrics, open_page, page, run, texts

HOSTILE = "**x**<b>"
NOW = datetime.now(UTC).replace(microsecond=0)


async def test_an_operator_sets_a_site(ui: RunningCsms) -> None:
    at = await open_page(page("sites"), operator="olga")
    assert "No sites yet" in at.info[0].value
    at.text_input(key="site_id").input("depot")
    at.text_area(key="site_charge_points").input("CP-1\nCP-2\n")
    at.number_input(key="site_limit").set_value(40.0)
    button(at, "Save site").click()
    await run(at)
    assert texts(at.success) == ["Site depot saved: its limit is divided at once."]
    site = await ui.app.store.get_site("depot")
    assert site is not None
    assert (site.max_current_a, site.charge_points, site.min_current_a) == (
        40.0,
        ("CP-1", "CP-2"),
        6.0,
    )

    at.text_input(key="site_id").input("annex")
    at.text_area(key="site_charge_points").input("CP-2")
    button(at, "Save site").click()
    await run(at)
    assert "'CP-2' is in site 'depot'" in texts(at.error)[0]

    button(at, "Remove site").click()
    await run(at)
    assert texts(at.success) == ["Site depot removed."]
    assert await ui.app.store.get_site("depot") is None


async def test_a_viewer_sees_allocated_and_measured_power_as_text_but_may_not_change(
    ui: RunningCsms,
) -> None:
    store = ui.app.store
    await store.put_site(Site(HOSTILE, (HOSTILE,), NOW, max_current_a=32.0))
    await store.upsert(
        [
            Session(11, HOSTILE, connector_id=1, start_time=NOW),
            MeterValue(HOSTILE, 1, NOW, "Power.Active.Import", 7200.0, "W", transaction_id=11),
        ]
    )
    await store.put_site_allocation(
        SiteAllocation(HOSTILE, HOSTILE, 1, 32.0, 22080.0, "A", 3, NOW, 11, "Accepted", NOW)
    )
    at = await open_page(page("sites"), operator="victor")
    assert metrics(at) == {"Limit": "32 A", "Allocated": "22,080 W", "Measured": "7,200 W"}
    table = at.dataframe[0].value
    assert table["charge_point_id"].tolist() == [HOSTILE]
    assert table[["transaction_id", "allocated_a", "measured_w"]].values.tolist() == [
        [11, 32.0, 7200.0]
    ]
    assert table["status"].tolist() == [["Accepted"]]
    assert not any(HOSTILE in text for text in texts(at.markdown))
    assert button(at, "Save site").disabled and button(at, "Remove site").disabled
    assert "may not change site limits" in locked(at)[0]
