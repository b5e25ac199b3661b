"""The gateway over real WebSockets: every Core operation, auth, and bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import pytest
from ocpp.exceptions import InternalError
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import RunningCsms, eventually, make_settings
from tests.ocpp_client import charge_point

NOW = "2026-11-27T10:00:00.000Z"


async def boot(cp) -> object:
    return await cp.call(call.BootNotification(charge_point_model="T54", charge_point_vendor="ABB"))


async def exchange(websocket, frame: str | bytes) -> list:
    await websocket.send(frame)
    return orjson.loads(await asyncio.wait_for(websocket.recv(), 5))


# -- charge point initiated Core operations


async def test_boot_notification_accepted_with_interval_and_utc_time(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        result = await boot(cp)
    assert result.status == "Accepted"
    assert result.interval == 300
    assert result.current_time.endswith("Z")
    registered = await csms.api.get("/api/v1/charge-points/CP-1")
    assert registered.json()["registered"] is True


@pytest.mark.parametrize(("policy", "status"), [("pending", "Pending"), ("reject", "Rejected")])
async def test_boot_notification_unknown_charge_point_follows_policy(
    tmp_path, policy: str, status: str
) -> None:
    from chargestream.app.embedded import EmbeddedCsms

    app = EmbeddedCsms(make_settings(tmp_path, registration_policy=policy))
    addresses = await app.start()
    try:
        url = f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp"
        async with charge_point(url, "CP-NEW") as cp:
            assert (await boot(cp)).status == status
    finally:
        await app.stop()


async def test_heartbeat_returns_current_time(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        result = await cp.call(call.Heartbeat())
    moment = datetime.fromisoformat(result.current_time)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60


async def test_authorize_uses_the_id_tag_store(csms: RunningCsms) -> None:
    await csms.api.put("/api/v1/id-tags/GOOD", json={"status": "Accepted"})
    await csms.api.put("/api/v1/id-tags/BAD", json={"status": "Blocked"})
    await csms.api.put(
        "/api/v1/id-tags/OLD", json={"status": "Accepted", "expiry_date": "2020-01-01T00:00:00Z"}
    )
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        statuses = [
            (await cp.call(call.Authorize(id_tag=tag))).id_tag_info["status"]
            for tag in ("GOOD", "BAD", "OLD", "UNKNOWN")
        ]
    assert statuses == ["Accepted", "Blocked", "Expired", "Invalid"]


async def test_start_transaction_gets_unique_ids_and_resend_gets_the_same(
    csms: RunningCsms,
) -> None:
    await csms.api.put("/api/v1/id-tags/TAG1", json={})
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        first = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=NOW)
        )
        resent = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=NOW)
        )
        other = await cp.call(
            call.StartTransaction(connector_id=2, id_tag="TAG1", meter_start=5, timestamp=NOW)
        )
    assert first.transaction_id == resent.transaction_id
    assert other.transaction_id != first.transaction_id
    assert 0 < first.transaction_id < 2**31
    assert first.id_tag_info["status"] == "Accepted"


async def test_full_session_appears_in_the_api(csms: RunningCsms) -> None:
    await csms.api.put("/api/v1/id-tags/TAG1", json={})
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await boot(cp)
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        await cp.call(call.Authorize(id_tag="TAG1"))
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=NOW)
        )
        tx = start.transaction_id
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
        )
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=tx,
                meter_value=[
                    {
                        "timestamp": "2026-11-27T10:00:10.000Z",
                        "sampledValue": [
                            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                            {"value": "1020", "measurand": "Energy.Active.Import.Register"},
                            {"value": "42", "measurand": "SoC", "unit": "Percent"},
                        ],
                    }
                ],
            )
        )
        stop = await cp.call(
            call.StopTransaction(
                meter_stop=8500,
                timestamp="2026-11-27T11:00:00.000Z",
                transaction_id=tx,
                reason="EVDisconnected",
                id_tag="TAG1",
            )
        )
        assert stop.id_tag_info["status"] == "Accepted"

    async def finished_session():
        response = await csms.api.get(f"/api/v1/sessions/{tx}")
        return response.status_code == 200 and response.json()["stop_time"] and response.json()

    session = await eventually(finished_session)
    assert session["energy_kwh"] == pytest.approx(7.5)
    assert session["stop_reason"] == "EVDisconnected"
    assert session["peak_power_w"] == pytest.approx(7200)
    meter = (await csms.api.get(f"/api/v1/sessions/{tx}/meter-values")).json()
    assert {m["measurand"] for m in meter} >= {"Power.Active.Import", "SoC"}
    listed = (await csms.api.get("/api/v1/charge-points/CP-1/sessions")).json()
    assert [s["transaction_id"] for s in listed] == [tx]

    async def offline_recorded():
        history = (await csms.api.get("/api/v1/charge-points/CP-1/status-history")).json()
        return [h["status"] for h in history if h["connector_id"] == 1]

    statuses = await eventually(offline_recorded)
    assert statuses[:2] == ["Available", "Charging"]
    state = (await csms.api.get("/api/v1/charge-points/CP-1")).json()["state"]
    assert state["vendor"] == "ABB" and state["model"] == "T54"


async def test_stop_transaction_for_unknown_transaction_is_answered_and_recorded(
    csms: RunningCsms,
) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        for _ in range(2):  # the duplicate is answered the same way
            result = await cp.call(
                call.StopTransaction(meter_stop=500, timestamp=NOW, transaction_id=777777)
            )
            assert result.id_tag_info is None

    async def recorded():
        response = await csms.api.get("/api/v1/sessions/777777")
        return response.status_code == 200 and response.json()

    session = await eventually(recorded)
    assert session["start_time"] is None and session["meter_stop"] == 500


async def test_stop_transaction_is_answered_when_its_id_tag_cannot_be_looked_up(
    csms: RunningCsms,
) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await boot(cp)
        await csms.app.store.close()  # the store is gone: no id tag can be looked up

        result = await cp.call(
            call.StopTransaction(meter_stop=500, timestamp=NOW, transaction_id=9, id_tag="NEW")
        )

        assert result.id_tag_info is None  # optional; the stop itself is in the log
        with pytest.raises(InternalError):  # an answer that needs the store still fails
            await cp.call(call.Authorize(id_tag="OTHER"), suppress=False)

    await csms.app.store.open()  # back: the views catch up with what was logged meanwhile

    async def recorded():
        response = await csms.api.get("/api/v1/sessions/9")
        return response.status_code == 200 and response.json()

    assert (await eventually(recorded, timeout=30))["meter_stop"] == 500


async def test_notifications_and_data_transfer_are_answered(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        await cp.call(call.FirmwareStatusNotification(status="Installed"))
        result = await cp.call(call.DataTransfer(vendor_id="com.example", message_id="x"))
    assert result.status == "UnknownVendorId"


# -- central system initiated operations (commands)


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}, {"status": "Accepted"}),
        (
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "60"},
            {"status": "Accepted"},
        ),
        ("ClearCache", {}, {"status": "Accepted"}),
        ("RemoteStartTransaction", {"idTag": "TAG1"}, {"status": "Accepted"}),
        ("RemoteStopTransaction", {"transactionId": 1}, {"status": "Accepted"}),
        ("Reset", {"type": "Soft"}, {"status": "Accepted"}),
        ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
        ("DataTransfer", {"vendorId": "com.example"}, {"status": "Accepted", "data": "pong"}),
        ("TriggerMessage", {"requestedMessage": "Heartbeat"}, {"status": "Accepted"}),
    ],
)
async def test_command_reaches_the_charge_point_and_returns_its_answer(
    csms: RunningCsms, action: str, payload: dict, expected: dict
) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await boot(cp)
        response = await csms.api.post(
            f"/api/v1/charge-points/CP-1/commands/{action}", json=payload
        )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "answered"
    assert response.json()["response"] == expected


async def test_get_configuration_command(csms: RunningCsms) -> None:
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await boot(cp)
        response = await csms.api.post(
            "/api/v1/charge-points/CP-1/commands/GetConfiguration",
            json={"key": ["HeartbeatInterval", "Nope"]},
        )
    body = response.json()["response"]
    assert body["configurationKey"] == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
    ]
    assert body["unknownKey"] == ["Nope"]


async def test_command_outcomes_for_invalid_offline_unknown_and_silent(csms: RunningCsms) -> None:
    assert (
        await csms.api.post("/api/v1/charge-points/NOPE/commands/Reset", json={})
    ).status_code == 404
    async with charge_point(csms.ocpp_url, "CP-1") as cp:
        await boot(cp)
        invalid = await csms.api.post(
            "/api/v1/charge-points/CP-1/commands/Reset", json={"type": "Hard-ish"}
        )
        assert invalid.status_code == 422 and invalid.json()["outcome"] == "rejected"
        unknown = await csms.api.post("/api/v1/charge-points/CP-1/commands/Frobnicate", json={})
        assert unknown.status_code == 404
        # GetLocalListVersion has no handler in the test charge point: it answers NotImplemented
        failed = await csms.api.post("/api/v1/charge-points/CP-1/commands/GetLocalListVersion")
        assert failed.status_code == 502 and failed.json()["outcome"] == "failed"
    offline = await csms.api.post(
        "/api/v1/charge-points/CP-1/commands/Reset", json={"type": "Soft"}
    )
    assert offline.status_code == 409 and offline.json()["outcome"] == "not_connected"

    async def silent_known() -> bool:  # the processor has derived its connection
        return (await csms.api.get("/api/v1/charge-points/CP-SILENT")).status_code == 200

    async with raw_connection(csms, "CP-SILENT") as websocket:
        await exchange(websocket, '[2,"b","Heartbeat",{}]')
        await eventually(silent_known)
        silent = await csms.api.post(
            "/api/v1/charge-points/CP-SILENT/commands/ClearCache", params={"timeout": 0.5}
        )
        assert silent.status_code == 504 and silent.json()["outcome"] == "timed_out"
    log = (await csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-1"})).json()
    assert [c["outcome"] for c in log] == ["not_connected", "failed", "rejected"]


# -- security profile 1 (HTTP Basic auth)


async def test_charge_point_with_password_must_authenticate(csms: RunningCsms) -> None:
    response = await csms.api.put(
        "/api/v1/charge-points/CP-SEC", json={"password": "s3cret-password-16"}
    )
    assert response.json()["has_password"] is True
    for password in (None, "wrong-password"):
        with pytest.raises(InvalidStatus) as refused:
            async with charge_point(csms.ocpp_url, "CP-SEC", password=password):
                pass
        assert refused.value.response.status_code == 401
    async with charge_point(csms.ocpp_url, "CP-SEC", password="s3cret-password-16") as cp:
        assert (await boot(cp)).status == "Accepted"


async def test_wrong_subprotocol_and_path_are_refused_at_the_handshake(csms: RunningCsms) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(csms.url("CP-1"), subprotocols=["ocpp2.1"]):
            pass
    assert refused.value.response.status_code == 400
    with pytest.raises(InvalidStatus) as refused:
        async with connect(csms.ocpp_url.replace("/ocpp", "/other/CP-1"), subprotocols=["ocpp1.6"]):
            pass
    assert refused.value.response.status_code == 404


# -- bad input: a clear answer, and the connection survives


def raw_connection(csms: RunningCsms, charge_point_id: str):
    return connect(csms.url(charge_point_id), subprotocols=["ocpp1.6"])


@pytest.mark.parametrize(
    ("frame", "message_id", "code"),
    [
        ("this is not json", "-1", "FormationViolation"),
        ('{"an": "object"}', "-1", "FormationViolation"),
        ('[7,"m1","Heartbeat",{}]', "m1", "ProtocolError"),
        ('[2,"m2","Frobnicate",{}]', "m2", "NotImplemented"),
        ('[2,"m3","Reset",{"type":"Soft"}]', "m3", "NotSupported"),
        (
            '[2,"m4","BootNotification",{"chargePointVendor":"ABB"}]',
            "m4",
            "OccurenceConstraintViolation",
        ),
        (
            '[2,"m5","BootNotification",{"chargePointVendor":1,"chargePointModel":"x"}]',
            "m5",
            "TypeConstraintViolation",
        ),
        (
            '[2,"m6","BootNotification",{"chargePointVendor":"'
            + "x" * 30
            + '","chargePointModel":"x"}]',
            "m6",
            "PropertyConstraintViolation",
        ),
        (
            '[2,"m7","StatusNotification",{"connectorId":1,"errorCode":"Error","status":"Available"}]',
            "m7",
            "PropertyConstraintViolation",
        ),
        ('[2,"m8","Heartbeat",[]]', "m8", "FormationViolation"),
        ('[2,"m9","Heartbeat"]', "m9", "FormationViolation"),
    ],
)
async def test_bad_frames_get_a_callerror_and_the_connection_survives(
    csms: RunningCsms, frame: str, message_id: str, code: str
) -> None:
    async with raw_connection(csms, "CP-BAD") as websocket:
        answer = await exchange(websocket, frame)
        assert answer[:3] == [4, message_id, code]
        follow_up = await exchange(websocket, '[2,"ok2","Heartbeat",{}]')
        assert follow_up[0] == 3 and follow_up[1] == "ok2"


async def test_a_fault_and_its_callerror_are_one_log_event(csms: RunningCsms) -> None:
    async with raw_connection(csms, "CP-BAD") as websocket:
        await websocket.send("this is not json")
        answer = await asyncio.wait_for(websocket.recv(), 5)
        events = await csms.app.event_log.recent_for("CP-BAD", 10)
    frames = [e.event for e in events if e.event.kind == "frame"]
    assert [(e.frame, e.answer, e.direction) for e in frames] == [
        ("this is not json", answer, "in")
    ]
    assert orjson.loads(answer)[:3] == [4, "-1", "FormationViolation"]


async def test_oversized_frame_gets_a_callerror(tmp_path) -> None:
    from chargestream.app.embedded import EmbeddedCsms

    app = EmbeddedCsms(make_settings(tmp_path, max_frame_bytes=1024))
    addresses = await app.start()
    try:
        url = f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp/CP-BIG"
        async with connect(url, subprotocols=["ocpp1.6"]) as websocket:
            big = '[2,"big","DataTransfer",{"vendorId":"x","data":"' + "y" * 4000 + '"}]'
            answer = await exchange(websocket, big)
            assert answer[:3] == [4, "big", "FormationViolation"]
            assert (await exchange(websocket, '[2,"ok","Heartbeat",{}]'))[0] == 3
    finally:
        await app.stop()


async def test_unmatched_callresult_is_recorded_and_ignored(csms: RunningCsms) -> None:
    async with raw_connection(csms, "CP-1") as websocket:
        await websocket.send('[3,"never-sent",{}]')
        await websocket.send('[4,"never-sent-either","GenericError","",{}]')
        assert (await exchange(websocket, '[2,"ok","Heartbeat",{}]'))[:2] == [3, "ok"]

    async def logged():
        response = await csms.api.get("/api/v1/charge-points/CP-1/frames")
        if response.status_code == 404:  # not derived yet: unknown to the API
            return []
        return [f["message_id"] for f in response.json() if f["direction"] == "in"]

    assert "never-sent" in await eventually(logged)


async def test_lenient_charge_point_gets_deviations_accepted(csms: RunningCsms) -> None:
    await csms.api.put("/api/v1/charge-points/CP-LAX", json={"lenient": True})
    long_serial = "S" * 40  # the schema allows 25
    async with raw_connection(csms, "CP-LAX") as websocket:
        answer = await exchange(
            websocket,
            orjson.dumps(
                [
                    2,
                    "b1",
                    "BootNotification",
                    {
                        "chargePointVendor": "ABB",
                        "chargePointModel": "T54",
                        "chargePointSerialNumber": long_serial,
                    },
                ]
            ).decode(),
        )
        assert answer[0] == 3 and answer[2]["status"] == "Accepted"
        answer = await exchange(
            websocket,
            '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"Error","status":"Faulted"}]',
        )
        assert answer == [3, "s1", {}]


async def test_concurrent_calls_are_answered_in_order(csms: RunningCsms) -> None:
    async with raw_connection(csms, "CP-1") as websocket:
        for i in range(5):
            await websocket.send(f'[2,"c{i}","Heartbeat",{{}}]')
        answers = [orjson.loads(await asyncio.wait_for(websocket.recv(), 5)) for _ in range(5)]
    assert [a[1] for a in answers] == [f"c{i}" for i in range(5)]


async def test_second_connection_replaces_the_first(csms: RunningCsms) -> None:
    async with raw_connection(csms, "CP-1") as first:
        await exchange(first, '[2,"a","Heartbeat",{}]')
        async with raw_connection(csms, "CP-1") as second:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(first.recv(), 5)
            assert (await exchange(second, '[2,"b","Heartbeat",{}]'))[:2] == [3, "b"]
            assert csms.app.gateway.connections["CP-1"] is not None

    async def kinds():
        response = await csms.api.get("/api/v1/charge-points/CP-1/frames")
        if response.status_code == 404:  # not derived yet: unknown to the API
            return None
        return [f["kind"] for f in reversed(response.json()) if f["kind"] != "frame"]

    assert await eventually(kinds) == ["connected", "disconnected", "connected", "disconnected"]


async def test_every_frame_is_in_the_log_before_its_answer(csms: RunningCsms) -> None:
    async with raw_connection(csms, "CP-1") as websocket:
        await exchange(websocket, '[2,"h1","Heartbeat",{}]')
        # the answer arrived, so the CALL and its answer must already be readable in the log
        events = await csms.app.event_log.recent_for("CP-1", 10)
    frames = [(e.event.direction, e.event.message_id, e.event.action) for e in reversed(events)]
    assert frames[1:] == [("in", "h1", "Heartbeat")]
    assert events[0].event.answer is not None and events[0].event.answer.startswith('[3,"h1",')


async def test_a_meter_values_exchange_is_one_log_event_with_the_answer_sent(
    csms: RunningCsms,
) -> None:
    meter = {
        "connectorId": 1,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "1200"}]}],
    }
    text = orjson.dumps([2, "mv1", "MeterValues", meter]).decode()
    async with raw_connection(csms, "CP-1") as websocket:
        await websocket.send(text)
        answer = await asyncio.wait_for(websocket.recv(), 5)
        events = await csms.app.event_log.recent_for("CP-1", 10)
    assert [e.event.kind for e in reversed(events)] == ["connected", "frame"]
    (logged,) = [e.event for e in events if e.event.kind == "frame"]
    assert (logged.frame, logged.answer) == (text, answer) == (text, '[3,"mv1",{}]')
    assert (logged.direction, logged.message_type, logged.action) == ("in", 2, "MeterValues")

    async def shown() -> list[tuple[str, int, str]] | None:
        response = await csms.api.get("/api/v1/charge-points/CP-1/frames")
        if response.status_code == 404:  # not derived yet: unknown to the API
            return None
        return [
            (f["direction"], f["message_type"], f["frame"])
            for f in response.json()
            if f["kind"] == "frame"
        ]

    # the inspector's frames, newest first
    assert await eventually(shown) == [("out", 3, answer), ("in", 2, text)]
