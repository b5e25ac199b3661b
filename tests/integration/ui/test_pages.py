"""Every dashboard page under Streamlit's AppTest, against a real embedded CSMS.

The CSMS (tests/conftest.py) runs in the test's event loop; AppTest runs in a
worker thread, so the app under test reaches the real HTTP API and reads the
same SQLite store the CSMS writes. The store is seeded with a small fleet;
commands go to a real test charge point (tests/ocpp_client.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from ocpp.v16 import call
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto
from streamlit.testing.v1 import AppTest

from chargestream.domain.records import (
    Alert,
    AlertKind,
    AlertRule,
    ChargePointState,
    CommandOutcome,
    CommandRecord,
    ConnectorStatus,
    IdTag,
    IdTagStatus,
    MeterValue,
    Registration,
    Session,
    StatusInterval,
)
from chargestream.domain.settings import Settings
from chargestream.storage.base import Store
from chargestream.ui.operators import Operator, load_operators, operators_path, save_operators
from chargestream.ui.roles import Role
from tests.conftest import RunningCsms
from tests.ocpp_client import charge_point

APP = Path(__file__).resolve().parents[3] / "app" / "dashboard_app.py"
SCREENS = Path(__file__).resolve().parents[3] / "ui" / "screens"
OPERATOR, PASSWORD = "alice", "correct horse battery"  # an admin
ROLES = {OPERATOR: Role.ADMIN, "olga": Role.OPERATOR, "victor": Role.VIEWER}
NOW = datetime.now(UTC).replace(microsecond=0)
SESSIONS_OF_CP1 = 30  # more than one page of 25


def page(name: str) -> str:
    """A page's script, as st.switch_page takes it."""
    return str(SCREENS / f"{name}.py")


# -- fixtures


@pytest.fixture
async def fleet(ui: RunningCsms) -> RunningCsms:
    await seed(ui.app.store)
    return ui


async def run(at: AppTest) -> AppTest:
    """Run the script off the event loop, so the CSMS keeps answering."""
    await asyncio.to_thread(at.run)
    assert not at.exception, [e.value for e in at.exception]
    return at


async def open_page(path: str, *, operator: str = OPERATOR, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["operator"] = operator
    await run(at)
    at.switch_page(path)
    at.query_params.update(query)
    return await run(at)


@contextlib.contextmanager
def socket_closed() -> Iterator[int]:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _nodes(at: AppTest) -> Iterator[Any]:
    stack = [at._tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(getattr(node, "children", {}).values())))


def elements_of(at: AppTest, kind: str) -> list[Any]:
    """Every element of one proto type anywhere in the page (e.g. charts, download buttons)."""
    return [node for node in _nodes(at) if getattr(node, "type", None) == kind]


def widget(at: AppTest, key: str) -> Any:
    return next(node for node in _nodes(at) if getattr(node, "key", None) == key)


# -- seeded data: a small fleet with a day of history


def _at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


async def seed(store: Store) -> None:
    await store.put_registration(
        Registration("CP-1", display_name="Depot north", location="Depot 1", created_at=_at(48))
    )
    await store.put_registration(Registration("CP-2", location="Harbour", created_at=_at(48)))
    await store.upsert(
        [
            ChargePointState(
                "CP-1",
                connected=True,
                last_seen=_at(0.01),
                connected_since=_at(3),
                vendor="ABB",
                model="Terra 54",
                serial_number="T54-0001",
                firmware_version="1.8.3",
                last_boot_at=_at(3),
                registration_status="Accepted",
                connectors=(
                    ConnectorStatus(0, "Available", "NoError", _at(3)),
                    ConnectorStatus(1, "Charging", "NoError", _at(1)),
                    ConnectorStatus(2, "Faulted", "GroundFailure", _at(0.5), info="RCD tripped"),
                ),
            ),
            ChargePointState(
                "CP-2",
                connected=False,
                last_seen=_at(2),
                vendor="BYD",
                model="EVA040",
                firmware_version="V3.0.7",
                connectors=(ConnectorStatus(1, "Available", "NoError", _at(5)),),
            ),
            ChargePointState("CP-3", connected=False, last_seen=_at(30), vendor="ABB"),
        ]
    )
    statuses = ["Available", "Preparing", "Charging", "SuspendedEV", "Finishing"] * 4
    await store.upsert(
        [
            StatusInterval("CP-1", 1, _at(24 - i), status, end=_at(23 - i))
            for i, status in enumerate(statuses)
        ]
        + [
            StatusInterval("CP-1", 1, _at(1), "Charging"),
            StatusInterval("CP-1", 2, _at(10), "Available", end=_at(0.5)),
            StatusInterval("CP-1", 2, _at(0.5), "Faulted", "GroundFailure"),
        ]
    )
    sessions = [
        Session(
            100 + i,
            "CP-1",
            1,
            "04A2B3C4",
            _at(2 * i + 3),
            1000 * i,
            _at(2 * i + 2),
            1000 * i + 20_000,
            20.0,
            "EVDisconnected",
            peak_power_w=48_000,
            soc_start=20,
            soc_end=80,
        )
        for i in range(1, SESSIONS_OF_CP1)
    ]
    sessions.append(Session(100, "CP-1", 1, "04A2B3C4", _at(1), 500, soc_start=35))
    sessions.append(Session(200, "CP-2", 1, "FLEET-9", _at(4), 0, _at(3), 11_000, 11.0, "Local"))
    await store.upsert(sessions)
    samples = []
    for minute in range(0, 60, 5):
        moment = _at(4) + timedelta(minutes=minute)
        samples += [
            MeterValue("CP-1", 1, moment, "Power.Active.Import", 40 + minute / 10, "kW", 101),
            MeterValue("CP-1", 1, moment, "SoC", 20 + minute, "Percent", 101),
            MeterValue("CP-1", 1, moment, "Temperature", 30 + minute / 5, "Celsius", 101),
            MeterValue("CP-1", 1, moment, "Current.Import", 60, "A", 101, phase="L1"),
            MeterValue("CP-1", 1, moment, "Current.Import", 61, "A", 101, phase="L2"),
        ]
    await store.upsert(samples)
    await store.upsert(
        [
            Alert(
                "CP-1:faulted:2",
                "CP-1",
                AlertKind.FAULTED,
                _at(0.5),
                "Connector 2 faulted: GroundFailure",
                "critical",
                connector_id=2,
            ),
            Alert("CP-2:offline", "CP-2", AlertKind.OFFLINE, _at(1.8), "No message for 600 s"),
            Alert(
                "CP-1:hot",
                "CP-1",
                AlertKind.THRESHOLD,
                _at(6),
                "Temperature 71 Celsius > 60",
                rule_id="hot",
                value=71,
                closed_at=_at(5.5),
            ),
        ]
    )
    await store.put_alert_rule(AlertRule("hot", "Temperature", ">", 60, "critical"))
    for tag in (
        IdTag("04A2B3C4"),
        IdTag("LOST-0007", IdTagStatus.BLOCKED),
        IdTag("OLD-CARD", expiry_date=_at(24)),
    ):
        await store.put_id_tag(tag)
    await store.record_command(
        CommandRecord(
            "c1",
            "CP-1",
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "60"},
            _at(1),
            CommandOutcome.ANSWERED,
            {"status": "Accepted"},
            completed_at=_at(1),
        )
    )


# -- sign-in


async def test_pages_need_a_signed_in_operator(ui: RunningCsms) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    await run(at)
    assert texts(at.subheader) == ["Sign in"]
    assert not at.metric
    with pytest.raises(ValueError):
        at.switch_page(page("fleet"))

    at.text_input[0].input(OPERATOR)
    at.text_input[1].input("wrong password")
    at.button[0].click()
    await run(at)
    assert texts(at.error) == ["Wrong operator name or password."]
    assert "operator" not in at.session_state

    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    await run(at)
    assert texts(at.title) == ["Fleet"]
    assert at.session_state["operator"] == OPERATOR

    at.sidebar.button[0].click()  # sign out
    await run(at)
    assert texts(at.subheader) == ["Sign in"]


async def test_without_operators_the_sign_in_page_says_how_to_create_one(
    ui: RunningCsms, csms_settings: Settings
) -> None:
    operators_path(csms_settings.data_dir).unlink()
    at = await run(AppTest.from_file(APP, default_timeout=30))
    assert "no operator" in at.warning[0].value
    assert "chargestream operators add NAME" in at.markdown[0].value
    assert not at.text_input


async def test_a_removed_operator_is_signed_out(ui: RunningCsms, csms_settings: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["operator"] = "mallory"
    await run(at)
    assert texts(at.subheader) == ["Sign in"]


# -- fleet


async def test_fleet_shows_every_charge_point_counts_and_filters(fleet: RunningCsms) -> None:
    at = await open_page(page("fleet"))
    tiles = metrics(at)
    assert (tiles["Charge points"], tiles["Online"], tiles["Offline"]) == ("3", "1", "2")
    assert (tiles["In session"], tiles["Faulted"], tiles["Open alerts"]) == ("1", "1", "2")
    table = at.dataframe[0].value
    assert table["charge_point_id"].tolist() == ["CP-1", "CP-2", "CP-3"]
    assert list(table.loc[0, "connectors"]) == ["CP · Available", "1 · Charging", "2 · Faulted"]
    assert list(table.loc[2, "state"]) == ["Offline"]
    assert table["alerts"].tolist() == ["● 1 critical", "▲ 1", ""]  # a marker per charge point
    assert any("Connector 2 faulted" in m for m in texts(at.markdown))

    at.text_input(key="fleet_search").input("harbour")
    await run(at)
    assert at.dataframe[0].value["charge_point_id"].tolist() == ["CP-2"]
    at.text_input(key="fleet_search").input("")
    at.multiselect(key="fleet_status").select("Faulted")
    await run(at)
    assert at.dataframe[0].value["charge_point_id"].tolist() == ["CP-1"]


async def test_fleet_of_thousands_of_charge_points(ui: RunningCsms) -> None:
    statuses = ["Available", "Charging", "Faulted", "SuspendedEV"]
    await ui.app.store.upsert(
        [
            ChargePointState(
                f"BIG-{n:05d}",
                connected=n % 10 != 0,
                last_seen=_at(0.1),
                vendor="ABB" if n % 2 else "BYD",
                connectors=tuple(
                    ConnectorStatus(c, statuses[(n + c) % 4], "NoError", _at(1)) for c in (1, 2)
                ),
            )
            for n in range(3000)
        ]
    )
    at = await open_page(page("fleet"))
    tiles = metrics(at)
    assert (tiles["Charge points"], tiles["Online"], tiles["Offline"]) == ("3,000", "2,700", "300")
    first = at.dataframe[0].value  # pages of 100 rows, each shown whole
    assert first["charge_point_id"].tolist()[::99] == ["BIG-00000", "BIG-00099"]
    at.number_input(key="fleet_page:30").set_value(30)
    await run(at)
    assert at.dataframe[0].value["charge_point_id"].tolist()[-1] == "BIG-02999"
    at.multiselect(key="fleet_vendor").select("BYD")
    at.multiselect(key="fleet_state").select("Offline")
    await run(at)
    assert len(at.dataframe[0].value) == 100
    assert at.number_input(key="fleet_page:3").max == 3


async def test_fleet_empty(ui: RunningCsms) -> None:
    at = await open_page(page("fleet"))
    assert "No charge points yet" in at.info[0].value
    assert not at.dataframe


# -- charge point


async def test_charge_point_detail(fleet: RunningCsms) -> None:
    at = await open_page(page("charge_point"), cp="CP-1")
    assert texts(at.subheader)[0] == "Depot north"
    assert metrics(at)["State"] == "Online"
    assert [list(s) for s in at.dataframe[0].value["status"]] == [
        ["Available"],
        ["Charging"],
        ["Faulted"],
    ]
    assert elements_of(at, "vega_lite_chart")  # the status timeline
    minutes = at.dataframe[1].value
    assert minutes.loc["Connector 1", "Charging"] > 0

    at.segmented_control(key="timeline_range").set_value("1 h")
    await run(at)
    assert elements_of(at, "vega_lite_chart")

    at.query_params["tab"] = "Boot & configuration"
    await run(at)
    boot = at.table[0].value
    assert boot.loc["Vendor", "value"] == "ABB"
    assert boot.loc["Firmware", "value"] == "1.8.3"
    assert at.table[1].value.loc["Location", "value"] == "Depot 1"

    at.query_params["tab"] = "Sessions"
    await run(at)
    assert at.dataframe[-1].value["transaction_id"].tolist()[:2] == [100, 101]


async def test_an_admin_pins_the_security_profile_an_operator_may_not(
    fleet: RunningCsms,
) -> None:
    at = await open_page(page("charge_point"), cp="CP-1", tab="Boot & configuration")
    assert at.table[1].value.loc["Security profile", "value"] == "0 (the default)"
    at.selectbox(key="security_profile").set_value(3)
    button(at, "Set profile").click()
    await run(at)
    assert texts(at.success) == ["Security profile set."]
    stored = await fleet.app.store.get_registration("CP-1")
    assert stored is not None and stored.security_profile == 3
    assert at.table[1].value.loc["Security profile", "value"] == "3"

    at = await open_page(
        page("charge_point"), operator="olga", cp="CP-1", tab="Boot & configuration"
    )
    assert button(at, "Set profile").disabled
    assert "that needs the role admin" in locked(at)[0]


async def test_charge_point_frames_and_configuration_of_a_live_charge_point(
    ui: RunningCsms,
) -> None:
    async with charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await cp.call(call.BootNotification(charge_point_model="T1", charge_point_vendor="ACME"))
        at = await open_page(page("charge_point"), cp="CP-LIVE", tab="Frames")
        frames = at.dataframe[-1].value
        assert {"BootNotification"} <= set(frames["action"])
        assert set(frames["direction"]) >= {"CP → CSMS", "CSMS → CP"}
        assert at.json  # the pretty-printed payload of the selected frame
        at.multiselect(key="frame_types").select("CALL")
        await run(at)
        assert set(at.dataframe[-1].value["type"]) == {"CALL"}

        at.query_params["tab"] = "Boot & configuration"
        await run(at)
        next(b for b in at.button if b.label == "Read configuration").click()
        await run(at)
        assert "answered GetConfiguration" in at.success[0].value
        keys = at.dataframe[0].value
        assert dict(zip(keys["key"], keys["value"], strict=True))["HeartbeatInterval"] == "300"


async def test_charge_point_page_without_charge_points(ui: RunningCsms) -> None:
    at = await open_page(page("charge_point"))
    assert "No charge points yet" in at.info[0].value


# -- charging history and session analysis


async def test_history_pages_backwards_and_exports(fleet: RunningCsms) -> None:
    register = MeterValue("CP-1", 1, _at(0.5), "Energy.Active.Import.Register", 2.5, "kWh", 100)
    power = MeterValue("CP-1", 1, _at(0.5), "Power.Active.Import", 7400, "W", 100)
    await fleet.app.store.upsert([register, power])
    at = await open_page(page("sessions"))
    at.selectbox(key="page_size").set_value(25)
    await run(at)
    first = at.dataframe[0].value
    assert len(first) == 25
    assert first["transaction_id"].tolist()[:3] == [100, 200, 101]  # newest first
    # the running session: energy since its start meter (500 Wh), power now, no stop reason
    assert (first.loc[0, "energy_kwh"], first.loc[0, "power_kw"]) == (2.0, 7.4)
    assert first["stop_reason"].isna().tolist()[:2] == [True, False]  # no "active"
    assert '"label": "Start (UTC)"' in at.dataframe[0].proto.columns  # the zone of its times
    assert first.loc[2, "duration_min"] == 60
    assert metrics(at)["Running"] == "1"
    assert metrics(at)["Energy"] == f"{2.0 + 11.0 + 23 * 20.0:,.1f} kWh"
    assert [b.label for b in elements_of(at, "download_button")] == [
        "This page as CSV",
        "Newest 10,000 as CSV",
    ]

    next(b for b in at.button if b.label == "Older").click()
    await run(at)
    second = at.dataframe[0].value
    assert second["transaction_id"].tolist() == [124, 125, 126, 127, 128, 129]
    assert "Page 2" in texts(at.main.caption)
    next(b for b in at.button if b.label == "Newer").click()
    await run(at)
    assert len(at.dataframe[0].value) == 25

    at.selectbox(key="cp").set_value("CP-2")
    await run(at)
    assert at.dataframe[0].value["transaction_id"].tolist() == [200]


async def test_history_without_sessions(ui: RunningCsms) -> None:
    at = await open_page(page("sessions"))
    assert "No charging sessions yet" in at.info[0].value


async def test_session_analysis_charts_the_chosen_measurands(fleet: RunningCsms) -> None:
    at = await open_page(page("session_detail"), tx="101")
    tiles = metrics(at)
    assert tiles["Energy, kWh"] == "20.00"
    assert tiles["Duration"] == "1 h 00"
    assert tiles["State of charge, %"] == "20 → 80"
    picker = at.multiselect(key="measurands")
    assert picker.value == ["Power.Active.Import", "SoC"]
    assert set(picker.options) >= {"Temperature", "Current.Import"}
    summary = at.dataframe[0].value.set_index("series")
    assert summary.loc["Power.Active.Import", "unit"] == "kW"  # W and kW shown as kW
    assert summary.loc["Power.Active.Import", "max"] == 45.5

    picker.select("Current.Import")
    await run(at)
    assert {"Current.Import L1", "Current.Import L2"} <= set(at.dataframe[0].value["series"])
    at.segmented_control(key="meter_view").set_value("Compare")
    await run(at)
    assert elements_of(at, "vega_lite_chart")
    picker = at.multiselect(key="measurands")
    for chosen in list(picker.value):
        picker.unselect(chosen)
    await run(at)
    assert "Choose at least one measurand." in texts(at.caption)


async def test_session_analysis_opens_on_the_newest_session_with_meter_values(
    fleet: RunningCsms,
) -> None:
    at = await open_page(page("session_detail"))  # 100 is newer, but has no meter values yet
    assert at.subheader[0].value.startswith("Transaction 101 ")
    await fleet.app.store.upsert(
        [MeterValue("CP-1", 1, _at(0.5), "Energy.Active.Import.Register", 2.5, "kWh", 100)]
    )
    st.cache_data.clear()
    await run(at)  # it follows the running session once it has some
    assert at.subheader[0].value.startswith("Transaction 100 ")
    assert metrics(at)["Energy so far, kWh"] == "2.00"


async def test_session_analysis_of_an_unknown_or_no_session(ui: RunningCsms) -> None:
    at = await open_page(page("session_detail"))
    assert "No charging sessions yet" in at.info[0].value
    at = await open_page(page("session_detail"), tx="999")
    assert "no session with transaction id 999" in at.warning[0].value


# -- remote control


async def send(at: AppTest, action: str, **values: Any) -> AppTest:
    at.selectbox(key="action").set_value(action)
    await run(at)
    for key, value in values.items():
        widget(at, key).set_value(value)
    next(b for b in at.button if b.label == f"Send {action}").click()
    return await run(at)


async def test_remote_control_shows_the_answer_and_the_log(ui: RunningCsms) -> None:
    async with charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await cp.call(call.BootNotification(charge_point_model="T1", charge_point_vendor="ACME"))
        at = await open_page(page("remote_control"), cp="CP-LIVE")

        at = await send(at, "ChangeConfiguration", config_seconds=120)
        assert texts(at.success) == ["CP-LIVE answered ChangeConfiguration: **Accepted**"]
        assert cp.configuration["HeartbeatInterval"] == "120"
        log = at.dataframe[-1].value
        assert log.loc[0, "action"] == "ChangeConfiguration"
        assert list(log.loc[0, "outcome"]) == ["answered"]

        at.selectbox(key="config_key").set_value("MeterValuesSampledData")
        at = await send(at, "ChangeConfiguration")
        assert "**NotSupported**" in at.warning[0].value  # the test charge point lacks the key

        at = await send(at, "GetConfiguration")
        keys = at.dataframe[0].value
        assert dict(zip(keys["key"], keys["value"], strict=True))["HeartbeatInterval"] == "120"

        at = await send(at, "RemoteStartTransaction", start_tag="04A2B3C4", start_connector=1)
        assert "RemoteStartTransaction: **Accepted**" in at.success[0].value
        assert ("RemoteStartTransaction", {"id_tag": "04A2B3C4"}) in cp.received
        at = await send(at, "RemoteStopTransaction", stop_transaction=7)
        assert "**Accepted**" in at.success[0].value
        at = await send(at, "Reset", reset_type="Hard")
        assert "Reset: **Accepted**" in at.success[0].value
        at = await send(at, "UnlockConnector")
        assert "UnlockConnector: **Unlocked**" in at.success[0].value
        at = await send(at, "ChangeAvailability", availability_type="Inoperative")
        assert "ChangeAvailability: **Accepted**" in at.success[0].value
        at = await send(at, "ClearCache")
        assert "ClearCache: **Accepted**" in at.success[0].value
        at = await send(at, "TriggerMessage", trigger="MeterValues")
        assert "TriggerMessage: **Accepted**" in at.success[0].value
        assert ("TriggerMessage", {"requested_message": "MeterValues"}) in cp.received

        at = await send(at, "RemoteStopTransaction", stop_transaction=None)
        assert "RemoteStopTransaction was not sent: the request is invalid" in at.error[0].value
        log = at.dataframe[-1].value  # every command, newest first
        assert len(log) == 11
        assert list(log.loc[0, "outcome"]) == ["rejected"]


async def test_remote_control_failures_are_explicit(fleet: RunningCsms, monkeypatch: Any) -> None:
    at = await open_page(page("remote_control"), cp="CP-2")
    assert "CP-2 is not connected right now" in texts(at.caption)[0]
    at = await send(at, "ClearCache")
    assert texts(at.error) == ["ClearCache was not sent: CP-2 is not connected."]

    with socket_closed() as port:
        monkeypatch.setenv("CHARGESTREAM_API_PORT", str(port))
        at = await send(at, "ClearCache")
    assert "could not be sent: cannot reach the API" in at.error[0].value


# -- id tags


async def test_id_tags_add_block_expire_delete(fleet: RunningCsms) -> None:
    store = fleet.app.store
    at = await open_page(page("id_tags"))
    tags = at.dataframe[0].value.set_index("id_tag")
    assert list(tags.loc["OLD-CARD", "answered"]) == ["Expired"]  # past its expiry date
    assert list(tags.loc["LOST-0007", "answered"]) == ["Blocked"]

    at.text_input(key="new_tag").input("NEW-TAG-1")
    at.text_input(key="new_parent").input("04A2B3C4")
    next(b for b in at.button if b.label == "Save tag").click()
    await run(at)
    assert texts(at.success) == ["NEW-TAG-1 is now Accepted."]
    assert await store.get_id_tag("NEW-TAG-1") == IdTag("NEW-TAG-1", parent_id_tag="04A2B3C4")
    assert "NEW-TAG-1" in at.dataframe[0].value["id_tag"].tolist()

    at.selectbox(key="tag_chosen").set_value("NEW-TAG-1")
    await run(at)
    next(b for b in at.button if b.label == "Block").click()
    await run(at)
    assert (await store.get_id_tag("NEW-TAG-1")).status is IdTagStatus.BLOCKED
    next(b for b in at.button if b.label == "Expire").click()
    await run(at)
    expired = await store.get_id_tag("NEW-TAG-1")
    assert expired.status is IdTagStatus.EXPIRED and expired.expiry_date is not None
    next(b for b in at.button if b.label == "Delete NEW-TAG-1 for good").click()
    await run(at)
    assert await store.get_id_tag("NEW-TAG-1") is None
    assert texts(at.success) == ["NEW-TAG-1 deleted."]


async def test_id_tags_empty_and_invalid(ui: RunningCsms) -> None:
    at = await open_page(page("id_tags"))
    assert "No id tags yet" in at.info[0].value
    at.text_input(key="new_tag").input("x" * 20)
    at.text_input(key="new_parent").input("y" * 20)
    next(b for b in at.button if b.label == "Save tag").click()
    await run(at)
    assert not at.error
    next(b for b in at.button if b.label == "Save tag").click()  # empty form now
    await run(at)
    assert texts(at.error) == ["An id tag needs 1 to 20 characters."]


# -- alerts


async def test_alerts_acknowledge_and_history(fleet: RunningCsms) -> None:
    at = await open_page(page("alerts"))
    open_now = at.dataframe[0].value
    assert open_now["alert_id"].tolist() == ["CP-1:faulted:2", "CP-2:offline"]
    next(b for b in at.button if b.label == "Acknowledge all 2 unacknowledged").click()
    await run(at)
    assert texts(at.success) == ["2 alert(s) acknowledged by alice."]
    assert at.dataframe[0].value["acknowledged_by"].tolist() == ["alice", "alice"]
    acknowledged = await fleet.app.store.alerts(open_only=True)
    assert {a.acknowledged_by for a in acknowledged} == {"alice"}

    at.query_params["alerts_tab"] = "History"
    await run(at)
    assert at.dataframe[0].value["alert_id"].tolist() == [
        "CP-1:faulted:2",
        "CP-2:offline",
        "CP-1:hot",
    ]


async def test_alert_rules_add_edit_delete(fleet: RunningCsms) -> None:
    store = fleet.app.store
    at = await open_page(page("alerts"), alerts_tab="Threshold rules")
    assert at.dataframe[0].value["rule_id"].tolist() == ["hot"]

    at.selectbox(key="rule_measurand_new").set_value("Voltage")
    at.selectbox(key="rule_operator_new").set_value("<")
    at.number_input(key="rule_threshold_new").set_value(200.0)
    next(b for b in at.button if b.label == "Save rule").click()
    await run(at)
    assert "Rule voltage-below-200 saved" in at.success[0].value
    assert AlertRule("voltage-below-200", "Voltage", "<", 200.0) in await store.list_alert_rules()

    at.selectbox(key="rule_chosen").set_value("hot")
    await run(at)
    at.number_input(key="rule_threshold_hot").set_value(75.0)
    at.checkbox(key="rule_on_hot").uncheck()
    next(b for b in at.button if b.label == "Save rule").click()
    await run(at)
    rules = {r.rule_id: r for r in await store.list_alert_rules()}
    assert (rules["hot"].threshold, rules["hot"].enabled) == (75.0, False)

    at.selectbox(key="rule_chosen").set_value("hot")
    await run(at)
    next(b for b in at.button if b.label == "Delete hot for good").click()
    await run(at)
    assert [r.rule_id for r in await store.list_alert_rules()] == ["voltage-below-200"]


async def test_alerts_empty(ui: RunningCsms) -> None:
    at = await open_page(page("alerts"))
    assert texts(at.success) == ["No open alerts."]
    at.query_params["alerts_tab"] = "History"
    await run(at)
    assert "No alerts yet" in at.info[0].value
    at.query_params["alerts_tab"] = "Threshold rules"
    await run(at)
    assert "No threshold rules" in at.info[0].value


async def test_api_failures_of_writes_are_shown(fleet: RunningCsms, monkeypatch: Any) -> None:
    with socket_closed() as port:
        monkeypatch.setenv("CHARGESTREAM_API_PORT", str(port))
        at = await open_page(page("id_tags"))
        next(b for b in at.button if b.label == "Block").click()
        await run(at)
    assert "04A2B3C4 was not saved: cannot reach the API" in at.error[0].value
    assert (await fleet.app.store.get_id_tag("04A2B3C4")).status is IdTagStatus.ACCEPTED


async def test_a_store_the_dashboard_cannot_read_is_explained(
    ui: RunningCsms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARGESTREAM_MODE", "stack")
    with socket_closed() as port:  # bound, not listening: connections are refused
        monkeypatch.setenv("CHARGESTREAM_CASSANDRA_PORT", str(port))
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["operator"] = OPERATOR
        await run(at)
    assert "cannot open the store" in at.error[0].value


# -- roles: what each may do, shown and enforced


def set_role(settings: Settings, name: str, role: Role) -> None:
    """Change one operator's role in operators.json, as `chargestream operators role` does."""
    operators = load_operators(settings.data_dir)
    operators[name] = Operator(operators[name].password_hash, role)
    save_operators(settings.data_dir, operators)


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def locked(at: AppTest) -> list[str]:
    """The notes that say what the signed-in role may not do."""
    return [c for c in texts(at.caption) if c.startswith(":material/lock:")]


async def test_the_sidebar_shows_the_role(fleet: RunningCsms) -> None:
    for name, role in ROLES.items():
        at = await open_page(page("fleet"), operator=name)
        assert f"Signed in as **{name}** · role **{role.value}**" in texts(at.sidebar.caption)


async def test_a_viewer_reads_every_page_and_every_control_is_disabled(fleet: RunningCsms) -> None:
    for name in ("fleet", "sessions", "session_detail"):
        at = await open_page(page(name), operator="victor")
        assert not at.error and at.title

    at = await open_page(page("charge_point"), operator="victor", cp="CP-1")
    assert metrics(at)["State"] == "Online"
    at.query_params["tab"] = "Boot & configuration"
    await run(at)
    assert button(at, "Read configuration").disabled
    assert button(at, "Set profile").disabled
    assert button(at, "Rotate password").disabled
    assert locked(at) == [
        ":material/lock: The role viewer may not change a charge point's security profile: "
        "that needs the role admin.",
        ":material/lock: The role viewer may not change charge point passwords: that needs "
        "the role admin.",
        ":material/lock: The role viewer may not send commands to charge points: that needs "
        "the role operator or admin.",
    ]

    at = await open_page(page("remote_control"), operator="victor", cp="CP-1")
    assert button(at, "Send ChangeConfiguration").disabled
    assert len(locked(at)) == 1
    assert at.dataframe[-1].value.loc[0, "action"] == "ChangeConfiguration"  # the log is read

    at = await open_page(page("id_tags"), operator="victor")
    assert len(at.dataframe[0].value) == 3
    for label in ("Accept", "Block", "Expire", "Delete 04A2B3C4 for good", "Save tag"):
        assert button(at, label).disabled, label
    assert "may not change id tags" in locked(at)[0]

    at = await open_page(page("alerts"), operator="victor")
    assert button(at, "Acknowledge all 2 unacknowledged").disabled
    assert "may not acknowledge alerts" in locked(at)[0]
    at.query_params["alerts_tab"] = "Threshold rules"
    await run(at)
    assert button(at, "Save rule").disabled
    assert "that needs the role admin" in locked(at)[0]


async def test_an_operator_commands_and_changes_tags_but_not_alert_rules(
    ui: RunningCsms,
) -> None:
    store = ui.app.store
    await store.put_alert_rule(AlertRule("hot", "Temperature", ">", 60, "critical"))
    async with charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await cp.call(call.BootNotification(charge_point_model="T1", charge_point_vendor="ACME"))
        at = await open_page(page("remote_control"), operator="olga", cp="CP-LIVE")
        assert not locked(at)
        at = await send(at, "ClearCache")
        assert texts(at.success) == ["CP-LIVE answered ClearCache: **Accepted**"]
    sent = (await store.commands("CP-LIVE"))[0]
    assert (sent.action, sent.sent_by) == ("ClearCache", "operator:olga")
    log = at.dataframe[-1].value
    assert log.loc[0, "sent_by"] == "operator:olga"

    at = await open_page(page("id_tags"), operator="olga")
    at.text_input(key="new_tag").input("OLGA-1")
    button(at, "Save tag").click()
    await run(at)
    assert texts(at.success) == ["OLGA-1 is now Accepted."]

    at = await open_page(page("alerts"), operator="olga", alerts_tab="Threshold rules")
    assert button(at, "Save rule").disabled
    assert "The role operator may not change alert rules" in locked(at)[0]


async def test_an_admin_rotates_a_password_an_operator_may_not(ui: RunningCsms) -> None:
    await ui.api.put("/api/v1/charge-points/CP-LIVE", json={"password": "old-password-0123"})
    async with charge_point(ui.ocpp_url, "CP-LIVE", password="old-password-0123") as cp:
        cp.configuration["AuthorizationKey"] = "old-password-0123"
        await cp.call(call.BootNotification(charge_point_model="T1", charge_point_vendor="ACME"))
        at = await open_page(
            page("charge_point"), operator="olga", cp="CP-LIVE", tab="Boot & configuration"
        )
        assert button(at, "Rotate password").disabled
        assert "may not change charge point passwords" in locked(at)[1]
        at = await open_page(page("charge_point"), cp="CP-LIVE", tab="Boot & configuration")
        button(at, "Rotate password").click()
        await run(at)
        assert texts(at.success) == ["CP-LIVE answered ChangeConfiguration: **Accepted**"]
        ((action, sent),) = cp.received
        key = sent["value"]  # what the test charge point was sent
        assert action == "ChangeConfiguration" and sent["key"] == "AuthorizationKey"
        assert len(key) == 40
        await run(at)
        everything = str([e.value for e in (*at.success, *at.table, *at.dataframe)])
        assert key not in everything
    registration = await ui.app.store.get_registration("CP-LIVE")
    assert registration is not None and registration.next_password_hash is not None
    logged = (await ui.app.store.commands("CP-LIVE"))[0]
    assert logged.sent_by == "operator:alice" and logged.payload["value"] == "[redacted]"


async def test_setting_an_authorization_key_on_remote_control_is_for_admins(
    fleet: RunningCsms,
) -> None:
    for operator, allowed in (("olga", False), (OPERATOR, True)):
        at = await open_page(page("remote_control"), operator=operator, cp="CP-1")
        at.selectbox(key="config_key").set_value("Other key…")
        await run(at)
        at.text_input(key="config_other").input("AuthorizationKey")
        await run(at)
        assert at.text_input(key="config_password").proto.type == TextInputProto.PASSWORD
        assert button(at, "Send ChangeConfiguration").disabled is not allowed
        at.text_input(key="config_password").input("too-short")
        await run(at)
        assert "at least 16 characters" in at.warning[0].value


async def test_every_action_checks_the_role_again_when_it_runs(
    fleet: RunningCsms, csms_settings: Settings
) -> None:
    """Controls rendered for an operator, then the role is lowered: each action is refused."""
    store = fleet.app.store
    at = await open_page(page("id_tags"), operator="olga")
    set_role(csms_settings, "olga", Role.VIEWER)
    button(at, "Block").click()
    await run(at)
    assert texts(at.error) == [
        "04A2B3C4 was not saved. The role viewer may not change id tags: that needs the role "
        "operator or admin."
    ]
    assert (await store.get_id_tag("04A2B3C4")).status is IdTagStatus.ACCEPTED
    assert button(at, "Block").disabled  # and the page now shows the role it has

    set_role(csms_settings, "olga", Role.OPERATOR)
    at = await open_page(page("alerts"), operator="olga")
    set_role(csms_settings, "olga", Role.VIEWER)
    button(at, "Acknowledge all 2 unacknowledged").click()
    await run(at)
    assert "Nothing was acknowledged. The role viewer may not acknowledge alerts" in (
        at.error[0].value
    )
    assert {a.acknowledged_by for a in await store.alerts(open_only=True)} == {None}

    at = await open_page(page("alerts"), operator=OPERATOR, alerts_tab="Threshold rules")
    set_role(csms_settings, OPERATOR, Role.OPERATOR)
    at.number_input(key="rule_threshold_new").set_value(99.0)
    button(at, "Save rule").click()
    await run(at)
    assert "was not saved. The role operator may not change alert rules" in at.error[0].value
    assert [r.rule_id for r in await store.list_alert_rules()] == ["hot"]


async def test_a_command_is_not_sent_for_a_role_lowered_after_the_page_was_drawn(
    ui: RunningCsms, csms_settings: Settings
) -> None:
    async with charge_point(ui.ocpp_url, "CP-LIVE") as cp:
        await cp.call(call.BootNotification(charge_point_model="T1", charge_point_vendor="ACME"))
        at = await open_page(page("remote_control"), operator="olga", cp="CP-LIVE")
        at.selectbox(key="action").set_value("Reset")
        await run(at)
        set_role(csms_settings, "olga", Role.VIEWER)
        button(at, "Send Reset").click()
        await run(at)
        assert not at.success
        assert button(at, "Send Reset").disabled
        at = await open_page(page("charge_point"), operator="olga", cp="CP-LIVE")
        at.query_params["tab"] = "Boot & configuration"
        await run(at)
        assert button(at, "Read configuration").disabled
        assert cp.received == []
    assert await ui.app.store.commands("CP-LIVE") == []


async def test_a_removed_role_signs_out_and_a_legacy_operator_file_means_admin(
    ui: RunningCsms, csms_settings: Settings
) -> None:
    password_hash = load_operators(csms_settings.data_dir)[OPERATOR].password_hash
    operators_path(csms_settings.data_dir).write_text(json.dumps({OPERATOR: password_hash}))
    at = AppTest.from_file(APP, default_timeout=30)
    await run(at)
    at.text_input[0].input(OPERATOR)
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    await run(at)
    assert texts(at.title) == ["Fleet"]
    assert f"Signed in as **{OPERATOR}** · role **admin**" in texts(at.sidebar.caption)


async def test_the_api_token_goes_with_every_request(
    fleet: RunningCsms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARGESTREAM_API_TOKEN", "not-the-token-0123456789")
    at = await open_page(page("id_tags"))
    button(at, "Block").click()
    await run(at)
    assert "04A2B3C4 was not saved: the API answered 401" in at.error[0].value
    assert (await fleet.app.store.get_id_tag("04A2B3C4")).status is IdTagStatus.ACCEPTED
