"""The dashboard's Reports page under AppTest against a real embedded CSMS: availability
with NEVI uptime and its CSV, the printable report with ids as text, and an operator
excluding a window through the API, which the uptime counts at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargestream.domain.records import ChargePointState, StatusInterval
from tests.conftest import RunningCsms
from tests.integration.ui.test_pages import (
    button,
    elements_of,
    metrics,
    open_page,
    page,
    run,
    texts,
)

HOSTILE = "**x**<b>"
MIDNIGHT = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def test_availability_printable_report_and_an_exclusion(ui: RunningCsms) -> None:
    minute = timedelta(minutes=1)
    await ui.app.store.upsert(
        [
            ChargePointState(HOSTILE),
            StatusInterval(HOSTILE, 1, MIDNIGHT, "Available", end=MIDNIGHT + minute),
            StatusInterval(HOSTILE, 1, MIDNIGHT + minute, "Faulted", end=MIDNIGHT + 2 * minute),
        ]
    )
    at = await open_page(page("reports"), operator="olga")
    assert metrics(at)["Uptime (NEVI)"] == "50.000 %"
    ports = at.dataframe[0].value
    assert ports["charge_point_id"].tolist() == [HOSTILE]
    assert ports[["Available_h", "Faulted_h"]].values.tolist() == [[0.017, 0.017]]
    assert not any(HOSTILE in text for text in texts(at.markdown))  # shown as text
    assert any("Availability report" in text for text in texts(at.markdown))
    assert len(elements_of(at, "download_button")) == 1  # no utilization in this period

    at.text_input(key="exclusion_cp").input(HOSTILE)
    at.text_input(key="exclusion_note").input("transformer repair")
    button(at, "Add exclusion").click()
    await run(at)
    assert texts(at.success) == ["Exclusion added: reports count it at once."]
    [exclusion] = await ui.app.store.list_exclusions()
    assert (exclusion.charge_point_id, exclusion.kind, exclusion.note) == (
        HOSTILE,
        "outage",
        "transformer repair",
    )
    assert metrics(at)["Uptime (NEVI)"] == "100.000 %"

    button(at, "Remove exclusion").click()
    await run(at)
    assert texts(at.success) == ["Exclusion removed."]
    assert await ui.app.store.list_exclusions() == []

    at.button_group(key="report_month").set_value("Last month")
    await run(at)
    assert metrics(at)["Uptime (NEVI)"] == "—"  # nothing reported last month


async def test_a_viewer_reads_reports_but_may_not_exclude(ui: RunningCsms) -> None:
    at = await open_page(page("reports"), operator="victor")
    assert metrics(at)["Uptime (NEVI)"] == "—"
    assert "No port reported a status in this period." in texts(at.info)
    assert button(at, "Add exclusion").disabled


async def test_utilization_shows_every_hour_of_the_day(ui: RunningCsms) -> None:
    await ui.app.store.upsert(
        [
            ChargePointState("CP-U"),
            StatusInterval("CP-U", 1, MIDNIGHT, "Charging", end=MIDNIGHT + timedelta(minutes=6)),
        ]
    )
    at = await open_page(page("reports"), operator="victor")
    by_hour = at.dataframe[1].value
    assert by_hour["Hour (UTC)"].tolist() == [f"{hour:02d}" for hour in range(24)]
    assert by_hour["Charging (h)"].tolist()[:2] == [0.1, 0]
    assert len(elements_of(at, "vega_lite_chart")) == 2  # per hour of day, per day
