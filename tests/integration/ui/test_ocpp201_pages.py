"""The dashboard with a mixed fleet: each charge point's protocol, a 2.0.1 charge point's
EVSE -> connector hierarchy, a 2.0.1 session's station transaction id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import ChargePointState, ConnectorStatus, Session
from tests.conftest import RunningCsms
from tests.integration.ui import test_pages
from tests.integration.ui.test_pages import open_page, page, texts

NOW = datetime.now(UTC).replace(microsecond=0)
TX = 2**40 + 7  # a 2.0.1 session id (derived from the station's id, above int32)


async def _seed(csms: RunningCsms) -> None:
    since = NOW - timedelta(minutes=5)
    await csms.app.store.upsert(
        [
            ChargePointState(
                "CP-16",
                connected=True,
                last_seen=NOW,
                ocpp_version=OcppVersion.V16,
                connectors=(ConnectorStatus(1, "Available", "NoError", since),),
            ),
            ChargePointState(
                "CP-201",
                connected=True,
                last_seen=NOW,
                ocpp_version=OcppVersion.V201,
                connectors=(
                    ConnectorStatus(
                        1, "Charging", "NoError", since, evse_id=1, evse_connector_id=1
                    ),
                    ConnectorStatus(
                        2, "Available", "NoError", since, evse_id=2, evse_connector_id=1
                    ),
                ),
            ),
            Session(
                TX,
                "CP-201",
                connector_id=1,
                id_tag="TOKEN-1",
                start_time=since,
                meter_start=0,
                station_transaction_id="b7e3-01",
                evse_id=1,
            ),
        ]
    )


async def test_fleet_shows_each_charge_points_protocol(ui: RunningCsms) -> None:
    await _seed(ui)
    at = await open_page(page("fleet"))
    table = at.dataframe[0].value.set_index("charge_point_id")
    assert table.loc["CP-16", "protocol"] == "OCPP 1.6"
    assert table.loc["CP-201", "protocol"] == "OCPP 2.0.1"


async def test_a_201_charge_point_shows_its_evses_and_their_connectors(ui: RunningCsms) -> None:
    await _seed(ui)
    at = await open_page(page("charge_point"), cp="CP-201")
    connectors = at.dataframe[0].value
    assert connectors[["evse", "connector"]].values.tolist() == [
        ["EVSE 1", "Connector 1"],
        ["EVSE 2", "Connector 1"],
    ]
    at.query_params["tab"] = "Boot & configuration"
    at = await test_pages.run(at)
    assert at.table[0].value.loc["Protocol", "value"] == "OCPP 2.0.1"


async def test_sessions_show_the_stations_transaction_id(ui: RunningCsms) -> None:
    await _seed(ui)
    at = await open_page(page("sessions"))
    sessions = at.dataframe[0].value
    assert sessions["station_transaction_id"].tolist() == ["b7e3-01"]
    assert sessions["transaction_id"].tolist() == [TX]

    at = await open_page(page("session_detail"), tx=str(TX))
    assert texts(at.subheader)[0] == f"Transaction {TX} · CP-201 EVSE 1"
    assert any("Station transaction b7e3-01" in caption for caption in texts(at.caption))
