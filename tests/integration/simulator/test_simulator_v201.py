"""The simulator's OCPP 2.0.1 stations against the fake CSMS (``fake_csms``) over real
loopback WebSockets; every frame and answer is checked against the 2.0.1 schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.simulator.fake_csms import (
    FakeCsms,
    fleet,
    ledger,
    offline_prone,
    quick,
    until,
)

CP = "SIM-00001"


def events(fake: FakeCsms, transaction: str) -> list[dict[str, Any]]:
    """The TransactionEvents of a station's transaction, in the order received."""
    return [
        p
        for p in fake.payloads("TransactionEvent")
        if p["transactionInfo"]["transactionId"] == transaction
    ]


def register(event: dict[str, Any]) -> int:
    (sample,) = event["meterValue"]
    values = {v["measurand"]: v["value"] for v in sample["sampledValue"]}
    value = values["Energy.Active.Import.Register"]
    assert isinstance(value, int)
    return value


def evse_statuses(fake: FakeCsms, cp: str, evse: int) -> list[str]:
    return [
        s["connectorStatus"] for s in fake.payloads("StatusNotification", cp) if s["evseId"] == evse
    ]


async def test_a_v201_session_is_a_sequence_of_transaction_events(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    config = quick(url, tmp_path, stations=2, v201_percent=100)
    async with fleet(config) as stats:
        entries = await until(lambda: ledger(config))
        entry = entries[0]
        cp, evse = entry["station"], entry["connector"]
        await until(lambda: evse_statuses(fake, cp, evse)[-1] == "Available")
    assert fake.versions == {"SIM-00001": "ocpp2.0.1", "SIM-00002": "ocpp2.0.1"}
    assert stats.stations_v201 == 2
    assert entry["ocppVersion"] == "2.0.1"
    assert {boot["chargingStation"]["vendorName"] for boot in fake.payloads("BootNotification")}
    assert fake.payloads("Authorize")[0]["idToken"]["type"] == "ISO14443"

    started, *updated, ended = events(fake, entry["transactionId"])
    assert [e["seqNo"] for e in [started, *updated, ended]] == list(range(len(updated) + 2))
    assert started["eventType"] == "Started" and ended["eventType"] == "Ended"
    assert updated and {e["eventType"] for e in updated} == {"Updated"}
    assert started["evse"] == {"id": evse, "connectorId": 1}
    assert started["idToken"]["idToken"] == entry["idTag"]
    assert started["timestamp"] == entry["startTimestamp"]
    assert ended["timestamp"] == entry["stopTimestamp"]
    assert ended["transactionInfo"]["stoppedReason"] == entry["stopReason"]
    assert register(started) == entry["meterStart"]
    assert register(ended) == entry["meterStop"]
    assert entry["energyWh"] == entry["meterStop"] - entry["meterStart"] > 0
    registers = [register(e) for e in [started, *updated, ended]]
    assert registers == sorted(registers)
    measurands = {v["measurand"] for v in updated[0]["meterValue"][0]["sampledValue"]}
    assert "SoC" in measurands and "Temperature" not in measurands  # no 2.0.1 measurand
    assert not any(e.get("offline") for e in [started, *updated, ended])

    sequence = evse_statuses(fake, cp, evse)
    occupied = sequence.index("Occupied")
    assert sequence[occupied - 1 : occupied + 2] == ["Available", "Occupied", "Available"]


async def test_transaction_events_made_offline_are_queued_and_sent_on_reconnect(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    config = offline_prone(url, tmp_path)
    async with fleet(config) as stats:
        (started, *_) = await until(lambda: fake.payloads("TransactionEvent", CP))
        transaction = started["transactionInfo"]["transactionId"]
        fake.refusing.add(CP)  # the station is offline: reconnects are closed at once
        fake.connections[CP].transport.abort()
        await until(lambda: stats.disconnects >= 4)  # some seconds without a connection
        fake.refusing.clear()
        entries = await until(lambda: ledger(config))
    (entry,) = [e for e in entries if e["transactionId"] == transaction]
    sent = events(fake, transaction)
    offline = [e for e in sent if e.get("offline")]
    assert offline and all(e["eventType"] in ("Updated", "Ended") for e in offline)
    assert sent[-1]["eventType"] == "Ended"
    assert register(sent[-1]) == entry["meterStop"]
    # in seqNo order without gaps (an event unanswered at the drop is sent again, unchanged)
    first_sent = list(dict.fromkeys(e["seqNo"] for e in sent))
    assert first_sent == list(range(len(first_sent)))
    boots = [i for i, call in enumerate(fake.calls) if call[2] == "BootNotification"]
    first_offline = next(i for i, call in enumerate(fake.calls) if call[3].get("offline"))
    assert boots[1] < first_offline  # sent after the next accepted BootNotification


async def test_v201_stations_answer_commands(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    config = quick(url, tmp_path, stations=1, v201_percent=100, idle_seconds=(1000.0, 1000.0))
    async with fleet(config) as stats:
        await until(lambda: len(fake.payloads("StatusNotification", CP)) >= 1)

        def variable(component: str, name: str, **more: Any) -> dict[str, Any]:
            return {"component": {"name": component}, "variable": {"name": name}, **more}

        heartbeat = variable("OCPPCommCtrlr", "HeartbeatInterval")
        answer = await fake.call(
            CP, "SetVariables", {"setVariableData": [{**heartbeat, "attributeValue": "1"}]}
        )
        assert answer[2]["setVariableResult"][0]["attributeStatus"] == "Accepted"
        await until(lambda: fake.payloads("Heartbeat", CP), timeout=3)  # Boot said 300 s
        wanted = [
            heartbeat,
            variable("OCPPCommCtrlr", "NoSuchVariable"),
            variable("NoSuchCtrlr", "HeartbeatInterval"),
            variable("SampledDataCtrlr", "TxUpdatedInterval", attributeType="MaxSet"),
        ]
        answer = await fake.call(CP, "GetVariables", {"getVariableData": wanted})
        results = answer[2]["getVariableResult"]
        assert [r["attributeStatus"] for r in results] == [
            "Accepted",
            "UnknownVariable",
            "UnknownComponent",
            "NotSupportedAttributeType",
        ]
        assert results[0]["attributeValue"] == "1"
        answer = await fake.call(
            CP, "SetVariables", {"setVariableData": [{**heartbeat, "attributeValue": "often"}]}
        )
        assert answer[2]["setVariableResult"][0]["attributeStatus"] == "Rejected"

        token = {"idToken": "REMOTE-42", "type": "Central"}
        answer = await fake.call(
            CP, "RequestStartTransaction", {"idToken": token, "remoteStartId": 7}
        )
        assert answer[2] == {"status": "Accepted"}
        (started,) = await until(lambda: fake.payloads("TransactionEvent", CP))
        assert started["triggerReason"] == "RemoteStart"
        assert started["transactionInfo"]["remoteStartId"] == 7
        assert started["idToken"] == token
        transaction = started["transactionInfo"]["transactionId"]
        answer = await fake.call(CP, "UnlockConnector", {"evseId": 1, "connectorId": 1})
        assert answer[2] == {"status": "OngoingAuthorizedTransaction"}
        answer = await fake.call(CP, "TriggerMessage", {"requestedMessage": "TransactionEvent"})
        assert answer[2] == {"status": "Accepted"}
        await until(
            lambda: [e for e in events(fake, transaction) if e["triggerReason"] == "Trigger"]
        )
        answer = await fake.call(CP, "RequestStopTransaction", {"transactionId": transaction})
        assert answer[2] == {"status": "Accepted"}
        ended = await until(
            lambda: [e for e in events(fake, transaction) if e["eventType"] == "Ended"]
        )
        assert ended[0]["transactionInfo"]["stoppedReason"] == "Remote"
        assert ended[0]["triggerReason"] == "RemoteStop"
        answer = await fake.call(CP, "RequestStopTransaction", {"transactionId": transaction})
        assert answer[2] == {"status": "Rejected"}

        before = len(fake.payloads("MeterValues", CP))
        answer = await fake.call(
            CP, "TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}
        )
        assert answer[2] == {"status": "Accepted"}
        await until(lambda: len(fake.payloads("MeterValues", CP)) > before)
        assert fake.payloads("MeterValues", CP)[-1]["evseId"] == 1
        answer = await fake.call(CP, "UnlockConnector", {"evseId": 9, "connectorId": 1})
        assert answer[2] == {"status": "UnknownConnector"}
        answer = await fake.call(CP, "DataTransfer", {"vendorId": "x"})
        assert answer[2] == {"status": "UnknownVendorId"}
        assert (await fake.call(CP, "ClearCache", {}))[2] == {"status": "Accepted"}
        assert (await fake.call(CP, "ReserveNow", {}))[2] == "NotSupported"
        assert (await fake.call(CP, "NoSuchAction", {}))[2] == "NotImplemented"
        assert (await fake.call(CP, "Reset", {}))[2] == "OccurrenceConstraintViolation"
        availability = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
        answer = await fake.call(CP, "ChangeAvailability", availability)
        assert answer[2] == {"status": "Accepted"}
        await until(lambda: evse_statuses(fake, CP, 1)[-1] == "Unavailable")

        assert (await fake.call(CP, "Reset", {"type": "Immediate"}))[2] == {"status": "Accepted"}
        await until(lambda: len(fake.payloads("BootNotification", CP)) == 2)
        assert stats.call_errors == stats.protocol_errors == 0


async def test_a_mixed_fleet_speaks_both_versions(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    config = quick(url, tmp_path, stations=4, v201_percent=50)
    async with fleet(config) as stats:
        await until(lambda: {e["ocppVersion"] for e in ledger(config)} == {"1.6", "2.0.1"})
    assert fake.versions == {
        "SIM-00001": "ocpp1.6",
        "SIM-00002": "ocpp2.0.1",
        "SIM-00003": "ocpp1.6",
        "SIM-00004": "ocpp2.0.1",
    }
    assert (stats.stations, stats.stations_v201) == (4, 2)
    for entry in ledger(config):
        kind = str if entry["ocppVersion"] == "2.0.1" else int
        assert isinstance(entry["transactionId"], kind)
