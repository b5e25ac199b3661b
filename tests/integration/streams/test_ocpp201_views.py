"""OCPP 2.0.1 views end to end: a charging station speaking 2.0.1 frames over a real
WebSocket to the embedded CSMS's gateway, derived by its runner, read over HTTP.

The station sends raw frames (``tests/ocpp_client.py`` ``raw_station``) so a test can queue
TransactionEvents the way a station does while offline and send them out of order after
reconnecting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargestream.streams.derive_v201 import transaction_id
from tests.conftest import RunningCsms, eventually
from tests.ocpp201_frames import boot, sample, status, transaction_event
from tests.ocpp_client import TestChargePoint, booted, raw_station

CP = "EVSE-201"


async def _folded(csms: RunningCsms, tx: int) -> Any:
    """The session once its last event (the one with the peak power) is derived."""
    session = await _json(csms, f"/api/v1/sessions/{tx}")
    return session if session and session["peak_power_w"] is not None else None


async def _views(csms: RunningCsms, tx: int) -> tuple[Any, ...]:
    store = csms.app.store
    return (
        await store.get_session(tx),
        await store.meter_values(tx),
        await store.get_charge_point_state(CP),
    )


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _json(csms: RunningCsms, path: str) -> Any:
    response = await csms.api.get(path)
    return response.json() if response.status_code == 200 else None


async def test_a_201_charge_point_and_its_session_over_the_api(csms: RunningCsms) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    offline = [  # queued while offline, sent out of order after reconnecting
        transaction_event(
            "Ended",
            "b7e3-01",
            2,
            iso(start + timedelta(minutes=20)),
            stopped_reason="EVDisconnected",
            samples=(sample(iso(start + timedelta(minutes=20)), wh=15000),),
            offline=True,
        ),
        transaction_event(
            "Started",
            "b7e3-01",
            0,
            iso(start),
            evse=(1, 1),
            id_token="TOKEN-1",
            charging_state="Charging",
            samples=(sample(iso(start), wh=5000, soc=30),),
            offline=True,
        ),
        transaction_event(
            "Updated",
            "b7e3-01",
            1,
            iso(start + timedelta(minutes=10)),
            samples=(sample(iso(start + timedelta(minutes=10)), wh=10000, watts=22000, soc=60),),
            offline=True,
        ),
    ]
    async with raw_station(csms.ocpp_url, CP) as station:  # back online: boot, then its queue
        booted_as = await station.call("BootNotification", boot(serialNumber="S-1"))
        assert booted_as["status"] == "Accepted"
        await station.call("StatusNotification", status(1, 1, "Occupied", iso(start)))
        for payload in offline:  # out of order
            answer = await station.call("TransactionEvent", payload)
            assert answer.get("idTokenInfo", {"status": "Invalid"})["status"] == "Invalid"

        tx = transaction_id(CP, "b7e3-01")
        session = await eventually(lambda: _folded(csms, tx))
        assert session["transaction_id"] == tx >= 2**31
        assert session["station_transaction_id"] == "b7e3-01"
        assert (session["evse_id"], session["connector_id"], session["id_tag"]) == (1, 1, "TOKEN-1")
        assert (session["meter_start"], session["meter_stop"], session["energy_kwh"]) == (
            5000,
            15000,
            10.0,
        )
        assert (session["peak_power_w"], session["soc_start"], session["soc_end"]) == (
            22000,
            30,
            60,
        )
        assert session["stop_reason"] == "EVDisconnected"

        values = await _json(csms, f"/api/v1/sessions/{tx}/meter-values")
        assert {v["measurand"] for v in values} == {
            "Energy.Active.Import.Register",
            "Power.Active.Import",
            "SoC",
        }

        charge_point = await _json(csms, f"/api/v1/charge-points/{CP}")
        state = charge_point["state"]
        assert state["ocpp_version"] == "ocpp2.0.1" and state["serial_number"] == "S-1"
        (connector,) = state["connectors"]
        assert (
            connector["connector_id"],
            connector["evse_id"],
            connector["evse_connector_id"],
        ) == (
            1,
            1,
            1,
        )
        assert connector["status"] == "Charging"  # the Started event's chargingState

    async def settled() -> tuple[Any, ...] | None:  # its disconnect derived too
        views = await _views(csms, tx)
        return views if not views[2].connected else None

    views = await eventually(settled)
    assert await csms.app.derivation.processor.rebuild() > 0  # a replay derives the same views
    assert await _views(csms, tx) == views


async def test_a_mixed_fleet_shows_each_protocol_and_the_evse_status_history(
    csms: RunningCsms,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with (
        raw_station(csms.ocpp_url, CP) as station,
        booted(csms.ocpp_url, "CP-16", TestChargePoint),
    ):
        await station.call("BootNotification", boot())
        await station.call("StatusNotification", status(1, 1, "Available", iso(now)))
        await station.call("StatusNotification", status(2, 1, "Faulted", iso(now)))

        async def versions() -> dict[str, str] | None:
            listing = await _json(csms, "/api/v1/charge-points")
            found = {
                cp["charge_point_id"]: (cp["state"] or {}).get("ocpp_version") for cp in listing
            }
            return found if None not in found.values() and len(found) == 2 else None

        assert await eventually(versions) == {"CP-16": "ocpp1.6", CP: "ocpp2.0.1"}

    history = await eventually(lambda: _json(csms, f"/api/v1/charge-points/{CP}/status-history"))
    shown = [i for i in history if i["status"] != "Offline"]  # Offline: since they left
    assert sorted((i["connector_id"], i["evse_id"], i["status"]) for i in shown) == [
        (1, 1, "Available"),
        (2, 2, "Faulted"),
    ]
