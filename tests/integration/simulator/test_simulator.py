"""The charge point simulator's OCPP 1.6 stations against a minimal in-test CSMS
(``fake_csms``) over real loopback WebSockets; every frame is checked against the schemas."""

from __future__ import annotations

import argparse
import asyncio
import base64
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from chargestream.simulator import Histogram, run_processes
from chargestream.simulator.cli import add_arguments, fleet_config
from chargestream.simulator.ocpp_keys import MEASURANDS
from tests.integration.simulator.fake_csms import FakeCsms, fleet, ledger, quick, until


async def test_sessions_follow_ocpp(fake_csms: tuple[FakeCsms, str], tmp_path: Path) -> None:
    fake, url = fake_csms
    config = quick(url, tmp_path)
    async with fleet(config) as stats:
        entries = await until(lambda: ledger(config))
        assert stats.connected == 3
        entry = entries[0]
        transaction_id, cp = entry["transactionId"], entry["station"]

        def statuses() -> list[str]:
            return [
                s["status"]
                for s in fake.payloads("StatusNotification", cp)
                if s["connectorId"] == entry["connector"]
            ]

        await until(lambda: statuses()[-1] == "Available")
    boots = fake.payloads("BootNotification")
    assert len(boots) == 3
    assert {boot["chargePointVendor"] for boot in boots} <= {"ABB", "BYD"}
    assert any(s["connectorId"] == 0 for s in fake.payloads("StatusNotification"))
    assert fake.payloads("Authorize")

    assert fake.transactions[transaction_id] == cp
    (start,) = [
        s
        for s in fake.payloads("StartTransaction", cp)
        if s["connectorId"] == entry["connector"] and s["timestamp"] == entry["startTimestamp"]
    ]
    (stop,) = [s for s in fake.payloads("StopTransaction") if s["transactionId"] == transaction_id]
    assert start["meterStart"] == entry["meterStart"]
    assert stop["meterStop"] == entry["meterStop"]
    assert entry["energyWh"] == entry["meterStop"] - entry["meterStart"] > 0

    meter_values = [
        m for m in fake.payloads("MeterValues") if m.get("transactionId") == transaction_id
    ]
    assert meter_values
    registers = [entry["meterStart"]]
    for payload in meter_values:
        (sample,) = payload["meterValue"]
        values = {v["measurand"]: v for v in sample["sampledValue"]}
        assert set(values) == set(MEASURANDS)
        assert all(isinstance(v["value"], str) for v in values.values())
        assert values["Temperature"]["location"] == "Body"
        assert values["Energy.Active.Import.Register"]["unit"] == "Wh"
        registers.append(int(values["Energy.Active.Import.Register"]["value"]))
    registers.append(entry["meterStop"])
    assert registers == sorted(registers)

    sequence = statuses()
    preparing = sequence.index("Preparing")
    assert sequence[preparing : preparing + 4] == [
        "Preparing",
        "Charging",
        "Finishing",
        "Available",
    ]

    stamps = [
        start["timestamp"],
        stop["timestamp"],
        *(m["meterValue"][0]["timestamp"] for m in meter_values),
    ]
    stamps += [s["timestamp"] for s in fake.payloads("StatusNotification")]
    assert all(stamp.endswith("Z") and len(stamp) == 24 for stamp in stamps)


async def test_answers_csms_commands(fake_csms: tuple[FakeCsms, str], tmp_path: Path) -> None:
    fake, url = fake_csms
    cp = "SIM-00001"
    config = quick(url, tmp_path, stations=1, idle_seconds=(1000.0, 1000.0))
    async with fleet(config) as stats:
        await until(lambda: len(fake.payloads("StatusNotification", cp)) >= 2)

        answer = await fake.call(
            cp, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"}
        )
        assert answer[2] == {"status": "Accepted"}
        await until(lambda: fake.payloads("Heartbeat", cp), timeout=3)  # Boot said 300 s
        for key, value, status in [
            ("NumberOfConnectors", "3", "Rejected"),
            ("HeartbeatInterval", "often", "Rejected"),
            ("NoSuchKey", "1", "NotSupported"),
        ]:
            answer = await fake.call(cp, "ChangeConfiguration", {"key": key, "value": value})
            assert answer[2] == {"status": status}
        answer = await fake.call(cp, "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
        assert answer[2] == {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "1"}],
            "unknownKey": ["Nope"],
        }
        everything = (await fake.call(cp, "GetConfiguration", {}))[2]["configurationKey"]
        assert {"key": "MeterValueSampleInterval", "readonly": False, "value": "1"} in everything

        answer = await fake.call(cp, "RemoteStartTransaction", {"idTag": "REMOTE-42"})
        assert answer[2] == {"status": "Accepted"}
        start = await until(
            lambda: [s for s in fake.payloads("StartTransaction", cp) if s["idTag"] == "REMOTE-42"]
        )
        transaction_id = max(fake.transactions)
        assert fake.transactions[transaction_id] == cp
        assert start[0]["connectorId"] in (1, 2)
        await until(lambda: fake.payloads("MeterValues", cp))
        answer = await fake.call(cp, "RemoteStopTransaction", {"transactionId": transaction_id})
        assert answer[2] == {"status": "Accepted"}
        stop = await until(lambda: fake.payloads("StopTransaction", cp))
        assert stop[0]["reason"] == "Remote"
        assert stop[0]["transactionId"] == transaction_id
        answer = await fake.call(cp, "RemoteStopTransaction", {"transactionId": transaction_id})
        assert answer[2] == {"status": "Rejected"}

        before = len(fake.payloads("MeterValues", cp))
        answer = await fake.call(cp, "TriggerMessage", {"requestedMessage": "MeterValues"})
        assert answer[2] == {"status": "Accepted"}
        await until(lambda: len(fake.payloads("MeterValues", cp)) > before)
        assert (await fake.call(cp, "UnlockConnector", {"connectorId": 9}))[2] == {
            "status": "NotSupported"
        }
        assert (await fake.call(cp, "DataTransfer", {"vendorId": "x"}))[2] == {"status": "Accepted"}
        assert (await fake.call(cp, "ClearCache", {}))[2] == {"status": "Accepted"}
        assert (await fake.call(cp, "ReserveNow", {}))[2] == "NotSupported"
        assert (await fake.call(cp, "NoSuchAction", {}))[2] == "NotImplemented"
        availability = {"connectorId": 0, "type": "Inoperative"}
        assert (await fake.call(cp, "ChangeAvailability", availability))[2] == {
            "status": "Accepted"
        }
        await until(
            lambda: (
                {"connectorId": 0, "status": "Unavailable"}.items()
                <= fake.payloads("StatusNotification", cp)[-1].items()
            )
        )

        assert (await fake.call(cp, "Reset", {"type": "Soft"}))[2] == {"status": "Accepted"}
        await until(lambda: len(fake.payloads("BootNotification", cp)) == 2)
        assert stats.csms_calls >= 16
        assert stats.call_errors == stats.protocol_errors == 0


async def test_unanswered_stop_is_resent_after_reconnect(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    cp = "SIM-00001"
    fake.drop_on_stop.add(cp)
    config = quick(url, tmp_path, stations=1, session_minutes=(0.03, 0.03))
    async with fleet(config) as stats:
        entries = await until(lambda: ledger(config))
    positions = [i for i, call in enumerate(fake.calls) if call[2] == "StopTransaction"]
    first, second = (fake.calls[i] for i in positions[:2])
    assert first[1:] == second[1:]  # same message id, same payload
    between = [call[2] for call in fake.calls[positions[0] : positions[1]]]
    assert "BootNotification" in between
    assert entries[0]["transactionId"] == first[3]["transactionId"]
    assert stats.resends >= 1
    assert stats.disconnects >= 1


async def test_a_stop_answered_with_a_callerror_is_sent_again(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    cp = "SIM-00001"
    fake.error_on_stop.add(cp)
    config = replace(
        quick(url, tmp_path, stations=1, session_minutes=(0.03, 0.03)),
        transaction_retry_interval=0.5,
    )
    async with fleet(config) as stats:
        entries = await until(lambda: ledger(config))
    stops = [call for call in fake.calls if call[2] == "StopTransaction"]
    assert stops[0][1:] == stops[1][1:]  # the same CALL again, once the interval passed
    assert entries[0]["transactionId"] == stops[0][3]["transactionId"]
    assert stats.call_errors == 1 and stats.disconnects == 0


async def test_basic_auth_source_address_and_pending_boot(
    fake_csms: tuple[FakeCsms, str], tmp_path: Path
) -> None:
    fake, url = fake_csms
    fake.pending_boots = 1
    config = quick(url, tmp_path, stations=1, password="s3cret", source_addresses=("127.0.0.2",))
    async with fleet(config):
        await until(lambda: fake.payloads("StatusNotification"))
    assert len(fake.payloads("BootNotification")) == 2  # Pending, then retried after 1 s
    credentials = base64.b64encode(b"SIM-00001:s3cret").decode()
    assert fake.handshakes == [("SIM-00001", f"Basic {credentials}", "127.0.0.2")]


async def test_processes_share_the_fleet(fake_csms: tuple[FakeCsms, str], tmp_path: Path) -> None:
    fake, url = fake_csms
    config = quick(url, tmp_path, stations=3, duration=1.5, ledger_file=None)
    stats = await asyncio.to_thread(run_processes, config, 2, log_level="WARNING")
    assert stats.stations == 3
    assert stats.connects == 3
    assert stats.connected == 0
    # the fake answers every CALL; one sent just before the stop may go unread
    assert stats.latency.total <= stats.calls_answered <= len(fake.calls)
    assert stats.calls_answered >= 3  # at least the BootNotifications
    assert {cp for cp, _, a, _ in fake.calls if a == "BootNotification"} == {
        "SIM-00001",
        "SIM-00002",
        "SIM-00003",
    }


async def test_processes_stop_when_the_simulator_is_killed(
    fake_csms: tuple[FakeCsms, str],
) -> None:
    fake, url = fake_csms
    options = ["--url", url, "--stations", "2", "--processes", "2", "--log-level", "WARNING"]
    parent = subprocess.Popen(
        [sys.executable, "-m", "chargestream.app.cli", "simulate", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")

        def both_connected() -> list[int] | None:
            pids = [int(pid) for pid in children.read_text().split()]
            booted = {cp for cp, _, action, _ in fake.calls if action == "BootNotification"}
            return pids if len(booted) == 2 else None

        pids = await until(both_connected, timeout=30)
        parent.kill()  # no Ctrl-C, no SIGTERM for its children: they notice by themselves

        def all_gone() -> bool:
            return not any(Path(f"/proc/{pid}").exists() for pid in pids)

        await until(all_gone, timeout=30)
    finally:
        parent.kill()
        parent.wait(10)


def test_command_line_options() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--stations",
            "100",
            "--session-minutes",
            "2-4",
            "--source-addresses",
            "127.0.0.2-127.0.0.4,127.0.0.9",
            "--id-tags",
            "A, B",
            "--protocol",
            "mix:30",
        ]
    )
    config = fleet_config(args)
    assert config.v201_percent == 30
    assert config.ramp_up == 2.0
    assert config.session_minutes == (2.0, 4.0)
    assert config.source_addresses == ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9")
    assert config.id_tags == ("A", "B")
    assert [part.first_station for part in config.split(3)] == [1, 35, 68]
    with pytest.raises(SystemExit):
        parser.parse_args(["--session-minutes", "5-1"])


def test_latency_histogram_quantiles_and_merge() -> None:
    one, other = Histogram(), Histogram()
    for micros in range(1, 1001):
        one.add(micros * 1000)  # 1 ms .. 1 s
    other.add(5_000_000)
    one.merge(other)
    assert one.total == 1001
    p50 = one.quantile_ms(0.5)
    assert p50 is not None and abs(p50 - 501) / 501 < 0.04
    top = one.quantile_ms(1.0)
    assert top is not None and abs(top - 5000) / 5000 < 0.04
    assert one.since(other).total == 1000
