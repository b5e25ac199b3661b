"""The dashboard's Firmware page under AppTest against a real embedded CSMS: an operator
starts a campaign for a real WebSocket charge point, sees its progress and cancels another;
a viewer may not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargestream.domain.settings import Settings
from chargestream.ui import queries
from tests.conftest import RunningCsms, eventually, make_settings
from tests.integration.gateway.test_firmware_campaigns import (
    LOCATION,
    FirmwareChargePoint,
    fleet,
    sent_to,
)
from tests.integration.ui.test_pages import button, locked, open_page, page, run, texts


@pytest.fixture
def csms_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", control_interval=0.1)


async def test_an_operator_starts_a_campaign_and_sees_its_progress(ui: RunningCsms) -> None:
    async with fleet(ui, "CP-FW1") as cps:
        at = await open_page(page("firmware"), operator="olga")
        assert "No firmware campaigns yet" in at.info[0].value
        at.text_input(key="fw_location").input(LOCATION)
        at.text_area(key="fw_cps").input("CP-FW1")
        button(at, "Start campaign").click()
        await run(at)
        (message,) = texts(at.success)
        assert message.startswith("Campaign ") and message.endswith(" for 1 charge points.")
        cp: FirmwareChargePoint = cps["CP-FW1"]
        await eventually(lambda: sent_to(cp))
        await cp.report("Downloading", "Downloaded", "Installing", "Installed")

        async def installed() -> bool:
            (campaign,) = await ui.app.store.firmware_campaigns()
            response = await ui.api.get(f"/api/v1/firmware-campaigns/{campaign.campaign_id}")
            return bool(response.json()["status"] == "finished")

        await eventually(installed)
        queries.firmware_campaigns.clear()  # the page showed it pending a moment ago
        at = await open_page(page("firmware"), operator="olga")
        table = at.dataframe[0].value
        assert table["charge_point_id"].tolist() == ["CP-FW1"]
        assert table["state"].tolist() == [["installed"]]
        assert table["status"].tolist() == ["Installed"]
        assert [m.value for m in at.metric if m.label == "Installed"] == ["1"]


async def test_an_operator_cancels_and_a_viewer_may_not_start(ui: RunningCsms) -> None:
    async with fleet(ui, "CP-FW2", "CP-FW3"):
        body = {
            "location": LOCATION,
            "retrieve_date": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "charge_points": ["CP-FW2", "CP-FW3"],
            "wave_size": 1,
        }
        made = await ui.api.post("/api/v1/firmware-campaigns", json=body)
        assert made.status_code == 201, made.text
        cid = made.json()["campaign"]["campaign_id"]

        viewer = await open_page(page("firmware"), operator="victor")
        assert button(viewer, "Start campaign").disabled
        assert button(viewer, "Cancel campaign").disabled
        assert "may not send commands" in locked(viewer)[0]

        at = await open_page(page("firmware"), operator="olga")
        button(at, "Cancel campaign").click()
        await run(at)
        assert texts(at.success) == [f"Campaign {cid} cancelled: no further waves."]
        stored = await ui.app.store.get_firmware_campaign(cid)
        assert stored is not None and stored.cancelled_at is not None
