"""The charge point page's Diagnostics tab under AppTest against a real embedded CSMS and a
real WebSocket charge point: an operator requests an upload, the file the charge point
uploads is listed with its name as text and offered for download, the last status shown;
a viewer sees the files but can neither request nor download; an OCPP 2.0.1 station is
asked with GetLog and its LogStatusNotification shown."""

from __future__ import annotations

from typing import Any

import httpx
import streamlit as st
from ocpp import v201
from ocpp.v16 import call

from chargestream.domain.records import ChargePointState
from tests.conftest import RunningCsms, eventually
from tests.integration.gateway.test_diagnostics import diagnostics_charge_point
from tests.integration.gateway.test_features_v201 import station
from tests.integration.ui.test_pages import (
    button,
    elements_of,
    locked,
    metrics,
    open_page,
    page,
    run,
    texts,
)

HOSTILE = "**bold** :red[x] <b>x.log"


async def diagnostics_status(ui: RunningCsms, charge_point_id: str) -> list[Any]:
    return [
        s
        for s in await ui.app.store.transfer_statuses(charge_point_id)
        if s.transfer == "diagnostics"
    ]


async def test_an_operator_requests_and_downloads_diagnostics(ui: RunningCsms) -> None:
    async with diagnostics_charge_point(ui.ocpp_url, "CP-DIAG") as cp:
        tab = {"cp": "CP-DIAG", "tab": "Diagnostics"}
        at = await open_page(page("charge_point"), operator="olga", **tab)
        assert "No diagnostics files uploaded." in texts(at.info)
        assert metrics(at)["Last diagnostics status"] == "None reported"
        button(at, "Request diagnostics").click()
        at = await run(at)
        assert any("GetDiagnostics" in t for t in texts(at.success))
        (location,) = [p["location"] for action, p in cp.received if action == "GetDiagnostics"]
        async with httpx.AsyncClient() as charger:
            answer = await charger.put(location + HOSTILE, content=b"log lines")
            assert answer.status_code == 201
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
    await eventually(lambda: diagnostics_status(ui, "CP-DIAG"))
    st.cache_data.clear()  # the page's queries are cached for a few seconds
    at = await open_page(page("charge_point"), operator="olga", **tab)
    assert metrics(at)["Last diagnostics status"] == "Uploaded"
    assert at.dataframe[-1].value["file_name"].tolist() == [HOSTILE]
    assert not any(HOSTILE in t for t in texts(at.markdown) + texts(at.caption))
    assert [b.label for b in elements_of(at, "download_button")] == ["Download"]


async def test_an_operator_chooses_ftp_and_hears_when_the_csms_has_no_ftp_server(
    ui: RunningCsms,
) -> None:
    async with diagnostics_charge_point(ui.ocpp_url, "CP-FTP") as cp:
        at = await open_page(page("charge_point"), operator="olga", cp="CP-FTP", tab="Diagnostics")
        (protocol,) = [r for r in at.radio if r.key == "diagnostics_protocol"]
        assert protocol.value == "http" and protocol.options == ["HTTP", "FTP"]
        protocol.set_value("ftp")
        button(at, "Request diagnostics").click()
        at = await run(at)
        assert any("no FTP upload server" in t for t in texts(at.error))
        assert cp.received == []  # nothing was sent


async def test_a_viewer_can_neither_request_nor_download(ui: RunningCsms) -> None:
    await ui.app.store.upsert([ChargePointState("CP-V")])
    at = await open_page(page("charge_point"), operator="victor", cp="CP-V", tab="Diagnostics")
    assert button(at, "Request diagnostics").disabled
    assert any("diagnostics" in note for note in locked(at))
    assert elements_of(at, "download_button") == []


async def test_a_201_station_is_asked_by_get_log_and_its_log_status_shown(ui: RunningCsms) -> None:
    async with station(ui, "CS-DIAG") as cs:
        tab = {"cp": "CS-DIAG", "tab": "Diagnostics"}
        at = await open_page(page("charge_point"), operator="olga", **tab)
        button(at, "Request diagnostics").click()
        at = await run(at)
        assert any("GetLog" in t for t in texts(at.success))
        (asked,) = cs.sent("GetLog")
        await cs.call(
            v201.call.LogStatusNotification(status="Uploaded", request_id=asked["request_id"])
        )

        async def log_status() -> list[Any]:
            statuses = await ui.app.store.transfer_statuses("CS-DIAG")
            return [s for s in statuses if s.transfer == "log"]

        await eventually(log_status)
    st.cache_data.clear()
    at = await open_page(page("charge_point"), operator="olga", **tab)
    assert metrics(at)["Last diagnostics status"] == "Uploaded"
