"""The production pipeline against real Kafka and Cassandra.

Two gateway nodes and the API run in this process, a Faust worker runs as a
real subprocess (so it can be killed), each test module on its own topic,
consumer group and keyspace.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from cassandra.cluster import Cluster
from confluent_kafka import murmur2
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chargestream.app.stack import StackApi, StackGateway
from chargestream.domain.frames import Direction, EventKind, MessageType
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.settings import Settings
from chargestream.storage.base import Store
from chargestream.storage.cassandra import CassandraStore
from chargestream.streams.derive_v201 import transaction_id as session_id_of
from chargestream.streams.replay import rebuild_from_kafka
from chargestream.streams.state import ChargePointDerivation
from testcontainers_tests.kafka_frames import frames_of, read_all
from tests.conftest import eventually, free_port
from tests.integration.api.test_reports import PERIOD as REPORT_PERIOD
from tests.integration.api.test_reports import drive_1_6
from tests.integration.gateway.test_charging_profiles import smart_charge_point
from tests.integration.gateway.test_charging_profiles_v201 import SmartStation
from tests.integration.gateway.test_diagnostics import diagnostics_charge_point
from tests.integration.gateway.test_diagnostics_ftp import store as ftp_store
from tests.integration.gateway.test_firmware_campaigns import FirmwareChargePoint, sent_to
from tests.integration.gateway.test_local_lists import ListKeepingChargePoint, in_sync_at
from tests.integration.gateway.test_reservations import reserving_charge_point
from tests.integration.streams import test_notifications
from tests.integration.streams.test_notifications import SECRET, Receiver, signed
from tests.integration.streams.test_sites import SiteChargePoint, limits, start
from tests.ocpp201_device_model import notify_report
from tests.ocpp201_frames import boot, sample, transaction_event
from tests.ocpp_client import (
    TestChargePoint,
    boot_station,
    booted,
    charge,
    charge_point,
    charging_station,
    raw_station,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PARTITIONS = 4
BULK_ACTION = "ChangeAvailability"


@dataclass
class Stack:
    settings: Settings
    gateway_a: StackGateway
    gateway_b: StackGateway
    url_a: str
    url_b: str
    api: httpx.AsyncClient
    worker: WorkerProcess

    def store(self) -> Store:
        return CassandraStore(
            [self.settings.cassandra_hosts],
            self.settings.cassandra_port,
            self.settings.cassandra_keyspace,
        )


class WorkerProcess:
    """``chargestream worker`` as a subprocess with the stack's settings."""

    def __init__(self, settings: Settings, log_dir: Path, name: str = "worker") -> None:
        self._env = {
            **os.environ,
            "CHARGESTREAM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "CHARGESTREAM_FRAMES_TOPIC": settings.frames_topic,
            "CHARGESTREAM_FRAMES_PARTITIONS": str(settings.frames_partitions),
            "CHARGESTREAM_WORKER_GROUP": settings.worker_group,
            "CHARGESTREAM_CASSANDRA_HOSTS": settings.cassandra_hosts,
            "CHARGESTREAM_CASSANDRA_PORT": str(settings.cassandra_port),
            "CHARGESTREAM_CASSANDRA_KEYSPACE": settings.cassandra_keyspace,
            "CHARGESTREAM_OFFLINE_AFTER": str(settings.offline_after),
            "CHARGESTREAM_NODE_ID": name,
            "CHARGESTREAM_DATA_DIR": str(log_dir / f"{name}-data"),
            "CHARGESTREAM_WORKER_WEB_PORT": str(free_port()),
            "CHARGESTREAM_HEALTH_PORT": str(free_port()),
            "CHARGESTREAM_LOG_FORMAT": "text",
            "CHARGESTREAM_WORKER_STALL_AFTER": "20",
        }
        self._log_dir = log_dir
        self._name = name
        self._runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._runs += 1
        log = (self._log_dir / f"{self._name}-{self._runs}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chargestream.app.cli", "worker"],
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def restart_if_exited(self) -> None:
        """What a supervisor does: a worker that exited (e.g. ``consumer_stalled``) starts again."""
        if self.process is not None and self.process.poll() is not None:
            print(f"{self._name} exited with {self.process.returncode}; restarting")
            self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def settings(
    kafka_bootstrap: str,
    cassandra_contact: tuple[str, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    host, port = cassandra_contact
    return Settings(
        mode="stack",
        data_dir=tmp_path_factory.mktemp("gateways"),  # their CA and server certificate
        kafka_bootstrap=kafka_bootstrap,
        frames_topic=f"it-{suffix}.frames",
        frames_partitions=PARTITIONS,
        worker_group=f"it-{suffix}-views",
        cassandra_hosts=host,
        cassandra_port=port,
        cassandra_keyspace=f"it_{suffix}",
        ocpp_port=0,
        ocpp_tls_port=0,  # two gateways in this process: no shared fixed TLS port
        api_port=0,
        ftp_port=0,  # off: no fixed port in tests
        health_port=0,
        command_timeout=10.0,
        offline_after=5,  # the workers' timer opens Offline alerts within a test
        accept_unknown_id_tags=True,
        log_format="text",
        api_token="pipeline-api-token-0123456789",
    )


@pytest.fixture(scope="module")
def worker_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("worker-logs")
    yield directory
    for log in sorted(directory.glob("*.log")):  # shown when a test failed
        print(f"--- {log.name}\n{log.read_text()[-3000:]}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(settings: Settings, worker_logs: Path) -> AsyncIterator[Stack]:
    gateway_a = StackGateway(replace(settings, node_id="gw-a"))
    gateway_b = StackGateway(replace(settings, node_id="gw-b"))
    api = StackApi(replace(settings, node_id="api-1", ftp_port=free_port()))  # FTP uploads too
    port_a = await gateway_a.start()  # creates the keyspace and the topic first
    port_b = await gateway_b.start()
    api_port = await api.start()
    worker = WorkerProcess(settings, worker_logs)
    worker.start()
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{api_port}",
        headers={"Authorization": f"Bearer {settings.api_token}"},
        timeout=30,
    )
    try:
        yield Stack(
            settings,
            gateway_a,
            gateway_b,
            f"ws://127.0.0.1:{port_a}/ocpp",
            f"ws://127.0.0.1:{port_b}/ocpp",
            client,
            worker,
        )
    finally:
        await client.aclose()
        worker.stop()
        await api.stop()
        await gateway_b.stop()
        await gateway_a.stop()
        await drop_keyspace(settings)


async def drop_keyspace(settings: Settings) -> None:
    def drop() -> None:
        cluster = Cluster([settings.cassandra_hosts], port=settings.cassandra_port)
        try:
            cluster.connect().execute(
                f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=60
            )
        finally:
            cluster.shutdown()

    await asyncio.to_thread(drop)


async def finished_session(
    api: httpx.AsyncClient,
    transaction_id: int,
    timeout: float = 90,
    supervise: Callable[[], None] = lambda: None,
):
    async def probe():
        supervise()
        response = await api.get(f"/api/v1/sessions/{transaction_id}")
        return response.status_code == 200 and response.json()["stop_time"] and response.json()

    return await eventually(probe, timeout=timeout, interval=0.2)


async def views(store: Store, charge_point_id: str) -> dict[str, object]:
    sessions = await store.sessions_for_charge_point(charge_point_id, limit=1000)
    return {
        "state": await store.get_charge_point_state(charge_point_id),
        "history": await store.status_history(
            charge_point_id,
            datetime.now(UTC) - timedelta(days=400),
            datetime.now(UTC) + timedelta(days=1),
        ),
        "sessions": sessions,
        "meter": [await store.meter_values(s.transaction_id) for s in sessions],
    }


# -- the tests (module order matters little; each uses its own charge points)


async def test_a_full_session_flows_from_frame_to_cassandra(stack: Stack) -> None:
    transaction_id = await charge(stack.url_a, "IT-CP-1", [40, 45, 50])
    session = await finished_session(stack.api, transaction_id)
    assert session["energy_kwh"] == 3.0 and session["charge_point_id"] == "IT-CP-1"
    meter = (await stack.api.get(f"/api/v1/sessions/{transaction_id}/meter-values")).json()
    assert len(meter) == 6
    history = (await stack.api.get("/api/v1/charge-points/IT-CP-1/status-history")).json()
    assert [h["status"] for h in history if h["connector_id"] == 1][:2] == ["Preparing", "Faulted"]

    async def disconnected():
        state = (await stack.api.get("/api/v1/charge-points/IT-CP-1")).json()["state"]
        return state and not state["connected"] and state

    state = await eventually(disconnected, timeout=60)
    assert state["vendor"] == "BYD" and state["node"] == "gw-a"
    frames = (await stack.api.get("/api/v1/charge-points/IT-CP-1/frames")).json()
    assert frames[0]["kind"] == "disconnected" and frames[-1]["kind"] == "connected"
    starts = [f for f in frames if f["action"] == "StartTransaction"]
    assert [(f["direction"], f["message_type"]) for f in starts] == [("out", 3), ("in", 2)]
    assert f'"transactionId":{transaction_id}' in starts[0]["frame"]


async def test_frames_are_in_kafka_in_order_with_their_metadata(stack: Stack) -> None:
    async with charge_point(stack.url_b, "IT-CP-ORDER") as cp:
        for _ in range(5):
            await cp.call(call.Heartbeat())
    events = await asyncio.to_thread(frames_of, stack.settings, "IT-CP-ORDER")
    assert [e.sequence for e in events] == list(range(len(events)))
    assert events[0].kind == EventKind.CONNECTED and events[-1].kind == EventKind.DISCONNECTED
    frames = [e for e in events if e.kind == EventKind.FRAME]
    assert len(frames) == 5  # one event per CALL and its answer
    assert {e.node for e in events} == {"gw-b"}
    assert [e.direction for e in frames] == [Direction.IN] * 5
    assert all(e.answer and e.answer.startswith(f'[3,"{e.message_id}",') for e in frames)
    assert all(e.action == "Heartbeat" for e in frames)
    assert all(e.received_us > 1.7e15 for e in frames)


async def test_a_meter_values_exchange_is_one_kafka_record_with_the_answer_sent(
    stack: Stack,
) -> None:
    meter = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-27T10:00:00Z", "sampledValue": [{"value": "9"}]}],
    }
    text = orjson.dumps([2, "mv-1", "MeterValues", meter]).decode()
    async with connect(f"{stack.url_a}/IT-CP-MV", subprotocols=["ocpp1.6"]) as websocket:
        await websocket.send(text)
        answer = await asyncio.wait_for(websocket.recv(), 30)
    events = await asyncio.to_thread(frames_of, stack.settings, "IT-CP-MV")
    (exchange,) = [e for e in events if e.kind == EventKind.FRAME]
    assert (exchange.frame, exchange.answer) == (text, answer)
    assert (exchange.direction, exchange.message_type, exchange.action) == (
        Direction.IN,
        MessageType.CALL,
        "MeterValues",
    )
    assert dict(exchange.headers())["answer"] == answer.encode()  # as the record carries it


async def test_a_201_station_is_logged_with_its_version_and_commanded_across_gateways(
    stack: Stack,
) -> None:
    commands = "/api/v1/charge-points/IT-201/commands"
    async with charging_station(stack.url_b, "IT-201") as station:
        assert await boot_station(station) == "Accepted"
        wanted = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        variables = await stack.api.post(
            f"{commands}/GetVariables", json={"getVariableData": [wanted]}
        )
        assert variables.status_code == 200, variables.text
        assert variables.json()["response"]["getVariableResult"][0]["attributeValue"] == "300"

        async def version_known() -> bool:  # derived from its connection, in Cassandra
            response = await stack.api.get("/api/v1/charge-points/IT-201")
            return (response.json().get("state") or {}).get("ocpp_version") == "ocpp2.0.1"

        await eventually(version_known, timeout=90, interval=0.2)
        legacy = await stack.api.post(f"{commands}/RemoteStartTransaction", json={"idTag": "T"})
        assert legacy.status_code == 422, legacy.text  # refused by the API, never sent
        assert legacy.json()["error"] == "RemoteStartTransaction is not an action of OCPP 2.0.1"
    events = await asyncio.to_thread(frames_of, stack.settings, "IT-201")
    assert events and {e.ocpp_version for e in events} == {OcppVersion.V201}
    assert "RemoteStartTransaction" not in {e.action for e in events}  # never sent


async def test_a_mixed_fleet_derives_one_session_model_through_kafka_and_cassandra(
    stack: Stack,
) -> None:
    """A 1.6 session on gateway A and a 2.0.1 one on gateway B, whose TransactionEvents the
    station queued offline and sends out of order: both sessions in Cassandra, alike."""
    legacy = await charge(stack.url_a, "IT-MIX-16", [30, 35])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")

    queued = [
        transaction_event(
            "Ended",
            "q-1",
            2,
            at(10),
            stopped_reason="Local",
            offline=True,
            samples=(sample(at(10), wh=9000),),
        ),
        transaction_event(
            "Started",
            "q-1",
            0,
            at(0),
            evse=(1, 1),
            id_token="TOKEN-Q",
            offline=True,
            samples=(sample(at(0), wh=1000),),
        ),
        transaction_event(
            "Updated",
            "q-1",
            1,
            at(5),
            offline=True,
            samples=(sample(at(5), wh=5000, watts=11000),),
        ),
    ]
    async with raw_station(stack.url_b, "IT-MIX-201") as station:
        await station.call("BootNotification", boot())
        for payload in queued:
            await station.call("TransactionEvent", payload)
    first = await finished_session(stack.api, legacy)
    path = f"/api/v1/sessions/{session_id_of('IT-MIX-201', 'q-1')}"

    async def folded() -> Any:  # its last event, the sample with the power, derived too
        response = await stack.api.get(path)
        return response.status_code == 200 and response.json()["peak_power_w"] and response.json()

    second = await eventually(folded, timeout=90, interval=0.2)
    assert (first["station_transaction_id"], first["energy_kwh"]) == (None, 2.0)
    assert (second["station_transaction_id"], second["id_tag"]) == ("q-1", "TOKEN-Q")
    assert (second["meter_start"], second["meter_stop"], second["energy_kwh"]) == (1000, 9000, 8.0)
    assert (second["evse_id"], second["peak_power_w"], second["stop_reason"]) == (1, 11000, "Local")
    listing = (await stack.api.get("/api/v1/charge-points")).json()
    versions = {cp["charge_point_id"]: cp["state"]["ocpp_version"] for cp in listing if cp["state"]}
    assert (versions["IT-MIX-16"], versions["IT-MIX-201"]) == ("ocpp1.6", "ocpp2.0.1")


async def test_a_201_device_model_reaches_cassandra(stack: Stack) -> None:
    """GetBaseReport through the stack API to a 2.0.1 station on gateway B, its NotifyReport
    through Kafka and the worker into Cassandra, browsable over the API."""
    commands = "/api/v1/charge-points/IT-DM/commands"
    async with raw_station(stack.url_b, "IT-DM") as station:
        await station.call("BootNotification", boot())

        async def version_known() -> bool:  # the API checks commands against it
            response = await stack.api.get("/api/v1/charge-points/IT-DM")
            return response.status_code == 200 and bool(response.json()["state"])

        await eventually(version_known, timeout=90, interval=0.2)
        asked = asyncio.create_task(
            stack.api.post(
                f"{commands}/GetBaseReport", json={"requestId": 7, "reportBase": "FullInventory"}
            )
        )
        await station.answer_next({"GetBaseReport": {"status": "Accepted"}})
        assert (await asked).status_code == 200, (await asked).text
        await station.call("NotifyReport", notify_report(request_id=7))

    async def reported() -> Any:
        response = await stack.api.get("/api/v1/charge-points/IT-DM/device-model")
        found = response.json()["variables"] if response.status_code == 200 else []
        return len(found) == 5 and found

    variables = await eventually(reported, timeout=90, interval=0.2)
    assert {v["request_id"] for v in variables} == {7}
    assert ("SecurityCtrlr", "Identity") in {(v["component"], v["variable"]) for v in variables}


async def test_a_resent_start_transaction_gets_the_same_id(stack: Stack) -> None:
    async with charge_point(stack.url_a, "IT-CP-RESEND") as cp:
        request = call.StartTransaction(
            connector_id=1, id_tag="T", meter_start=10, timestamp="2026-11-27T09:00:00.000Z"
        )
        first = await cp.call(request)
        again = await cp.call(request)
    async with charge_point(stack.url_b, "IT-CP-RESEND") as cp:  # even on the other node
        third = await cp.call(request)
    assert first.transaction_id == again.transaction_id == third.transaction_id


async def test_commands_reach_charge_points_on_either_gateway(stack: Stack) -> None:
    async with (
        charge_point(stack.url_a, "IT-CMD-A") as on_a,
        charge_point(stack.url_b, "IT-CMD-B") as on_b,
    ):
        for cp in (on_a, on_b):
            await cp.call(call.BootNotification(charge_point_model="m", charge_point_vendor="v"))
        for cp in (on_a, on_b):
            response = await stack.api.post(
                f"/api/v1/charge-points/{cp.id}/commands/ChangeConfiguration",
                json={"key": "HeartbeatInterval", "value": "42"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["response"] == {"status": "Accepted"}
            assert cp.configuration["HeartbeatInterval"] == "42"
        assert on_a.received[-1][0] == on_b.received[-1][0] == "ChangeConfiguration"
        gone = await stack.api.post("/api/v1/charge-points/IT-CP-1/commands/ClearCache", json={})
        assert gone.status_code == 409 and gone.json()["outcome"] == "not_connected"
    after = await stack.api.post(
        "/api/v1/charge-points/IT-CMD-B/commands/ClearCache",
        json={},
        headers={"X-Chargestream-Operator": "alice"},
    )
    assert after.status_code == 409
    log = (await stack.api.get("/api/v1/commands", params={"charge_point_id": "IT-CMD-B"})).json()
    assert [(c["action"], c["sent_by"]) for c in log] == [
        ("ClearCache", "operator:alice"),
        ("ChangeConfiguration", "api"),
    ]


async def test_a_killed_worker_resumes_with_nothing_lost_or_doubled(stack: Stack) -> None:
    charge_points = [f"IT-KILL-{i}" for i in range(4)]

    async def sessions_of(cp: str, first: int) -> list[int]:
        return [
            await charge(stack.url_a if i % 2 else stack.url_b, cp, [20, 21], start=600 * i)
            for i in range(first, first + 2)
        ]

    first_wave = await asyncio.gather(*(sessions_of(cp, 0) for cp in charge_points))
    stack.worker.kill()  # mid-stream: the second wave arrives while no worker runs
    second_wave = await asyncio.gather(*(sessions_of(cp, 2) for cp in charge_points))
    stack.worker.start()
    expected = {
        cp: sorted(a + b) for cp, a, b in zip(charge_points, first_wave, second_wave, strict=True)
    }
    for transaction_ids in expected.values():
        for transaction_id in transaction_ids:
            session = await finished_session(
                stack.api, transaction_id, timeout=120, supervise=stack.worker.restart_if_exited
            )
            assert session["energy_kwh"] == 2.0
    for cp, transaction_ids in expected.items():
        listed = (await stack.api.get(f"/api/v1/charge-points/{cp}/sessions")).json()
        assert sorted(s["transaction_id"] for s in listed) == transaction_ids
        for transaction_id in transaction_ids:
            meter = (await stack.api.get(f"/api/v1/sessions/{transaction_id}/meter-values")).json()
            assert len(meter) == 4


async def test_the_states_reach_the_tables_changelog_in_the_partition_of_their_key(
    stack: Stack,
) -> None:
    """The worker writes the changelog itself (ADR 0017): where Faust reads it back when a
    worker takes a partition over."""
    transaction_id = await charge(stack.url_a, "IT-CP-CHANGELOG", [10, 12])
    await finished_session(stack.api, transaction_id)
    topic = f"{stack.settings.worker_group}-cp-derivation-changelog"

    def latest() -> ChargePointDerivation | None:
        records = [
            record
            for partition in range(PARTITIONS)
            for record in read_all(stack.settings.kafka_bootstrap, topic, partition)
            if record.key() == b"IT-CP-CHANGELOG"
        ]
        wanted = murmur2(b"IT-CP-CHANGELOG", PARTITIONS)
        assert {record.partition() for record in records} <= {wanted}
        return ChargePointDerivation.from_json(records[-1].value()) if records else None

    async def closed() -> ChargePointDerivation | None:
        state = await asyncio.to_thread(latest)
        return state if state is not None and not state.sessions else None

    state = await eventually(closed, timeout=60)
    assert [session.transaction_id for session in state.closed] == [transaction_id]


async def test_frames_derived_twice_change_nothing_and_replay_rebuilds_the_same(
    stack: Stack,
) -> None:
    transaction_id = await charge(stack.url_b, "IT-CP-REPLAY", [30, 35])
    await finished_session(stack.api, transaction_id)
    store = stack.store()
    await store.open()
    try:

        async def settled():
            snapshot = await views(store, "IT-CP-REPLAY")
            state = snapshot["state"]
            return snapshot if state is not None and not state.connected else None

        before = await eventually(settled, timeout=60)
        # duplicate delivery: every frame of the log derived again, over the live views
        again = await rebuild_from_kafka(stack.settings, stack.store(), since_us=0)
        assert again > 10  # events: a CALL and its answer are one
        assert await views(store, "IT-CP-REPLAY") == before
        # a full replay: the derived tables cleared and rebuilt from the log
        replayed = await rebuild_from_kafka(stack.settings, stack.store())
        assert replayed == again
        assert await views(store, "IT-CP-REPLAY") == before
    finally:
        await store.close()


async def test_an_offline_alert_opens_by_timer_and_closes_on_reconnect(stack: Stack) -> None:
    async with charge_point(stack.url_a, "IT-CP-SILENT") as cp:
        await cp.call(call.Heartbeat())

    async def offline_alert(open_: bool):
        alerts = (await stack.api.get("/api/v1/alerts", params={"limit": 1000})).json()
        mine = [
            a for a in alerts if a["charge_point_id"] == "IT-CP-SILENT" and a["kind"] == "offline"
        ]
        return [a for a in mine if (a["closed_at"] is None) == open_]

    opened = await eventually(lambda: offline_alert(True), timeout=60, interval=0.5)
    assert len(opened) == 1
    async with charge_point(stack.url_b, "IT-CP-SILENT") as cp:
        await cp.call(call.Heartbeat())
    closed = await eventually(lambda: offline_alert(False), timeout=60, interval=0.5)
    assert closed[0]["alert_id"] == opened[0]["alert_id"]


async def test_two_workers_share_the_partitions(stack: Stack, worker_logs: Path) -> None:
    second = WorkerProcess(stack.settings, worker_logs, name="second-worker")
    second.start()
    try:
        charge_points = [f"IT-PAIR-{i}" for i in range(8)]  # spread over the 4 partitions
        transaction_ids = await asyncio.gather(
            *(charge(stack.url_a, cp, [10], start=7200) for cp in charge_points)
        )
        for transaction_id in transaction_ids:
            session = await finished_session(stack.api, transaction_id, timeout=120)
            assert session["energy_kwh"] == 1.0
    finally:
        second.stop()
    assert second.process is not None
    assert second.process.returncode in (0, -signal.SIGTERM)  # stopped, not killed


async def test_a_profile_2_charge_point_over_wss_raises_a_security_alert_in_cassandra(
    stack: Stack,
) -> None:
    """Stack mode end to end: the gateway's TLS listener, the pinned profile refusing the
    plain port, and a critical SecurityEventNotification through Kafka and the Faust
    worker into Cassandra, listed by the API with its security alert."""
    gateway = StackGateway(replace(stack.settings, node_id="gw-tls"))
    plain_port = await gateway.start(tls_port=0)
    try:
        password = "stack-profile-2-password"
        registered = await stack.api.put(
            "/api/v1/charge-points/IT-CP-TLS", json={"password": password, "security_profile": 2}
        )
        assert registered.status_code == 200, registered.text
        with pytest.raises(InvalidStatus) as refused:  # no downgrade to the plain port
            async with connect(
                f"ws://127.0.0.1:{plain_port}/ocpp/IT-CP-TLS", subprotocols=["ocpp1.6"]
            ):
                pass
        assert refused.value.response.status_code == 403

        trust = ssl.create_default_context(cafile=stack.settings.data_dir / "pki" / "ca.pem")
        url = f"wss://127.0.0.1:{gateway.gateway.tls_port}/ocpp"
        async with charge_point(url, "IT-CP-TLS", password=password, tls=trust) as cp:
            await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
            await cp.call(
                call.SecurityEventNotification(
                    type="TamperDetectionActivated",
                    timestamp="2026-12-06T10:00:00.000Z",
                    tech_info=None,
                )
            )

        async def alerted() -> list[dict[str, object]]:
            events = await stack.api.get("/api/v1/charge-points/IT-CP-TLS/security-events")
            alerts = (await stack.api.get("/api/v1/alerts")).json()
            security = [
                a for a in alerts if a["kind"] == "security" and a["charge_point_id"] == "IT-CP-TLS"
            ]
            return events.status_code == 200 and events.json() and security and events.json()

        (event,) = await eventually(alerted, timeout=90, interval=0.2)
        assert event["event_type"] == "TamperDetectionActivated" and event["critical"]
    finally:
        await gateway.stop()


async def test_a_reservation_is_derived_into_cassandra_and_used(stack: Stack) -> None:
    """ReserveNow through the stack API to gateway B, its answer and a StartTransaction
    naming it through Kafka and the Faust worker into Cassandra: listed active, then used."""
    async with reserving_charge_point(stack.url_b, "IT-RES") as cp:
        expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        made = await stack.api.post(
            "/api/v1/charge-points/IT-RES/reservations",
            json={"connector_id": 1, "id_tag": "TAG-1", "expiry_date": expiry},
        )
        assert made.status_code == 200, made.text
        rid = made.json()["reservation_id"]
        assert made.json()["status"] == "active"

        async def listed(status: str) -> bool:
            response = await stack.api.get(
                "/api/v1/reservations", params={"charge_point_id": "IT-RES"}
            )
            return [(r["reservation_id"], r["status"]) for r in response.json()] == [(rid, status)]

        await eventually(lambda: listed("active"), timeout=90, interval=0.2)
        started = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="TAG-1",
                meter_start=0,
                timestamp=datetime.now(UTC).isoformat(),
                reservation_id=rid,
            )
        )
    await eventually(lambda: listed("used"), timeout=90, interval=0.2)
    stored = (await stack.api.get(f"/api/v1/reservations/{rid}")).json()
    assert stored["transaction_id"] == started.transaction_id


async def test_an_installed_charging_profile_is_derived_into_cassandra_and_cleared(
    stack: Stack,
) -> None:
    """A profile defined in Cassandra, SetChargingProfile through the stack API to gateway B,
    its Accepted through Kafka and the Faust worker into Cassandra; then cleared."""
    defined = await stack.api.post(
        "/api/v1/charging-profiles",
        json={
            "name": "Stack default",
            "stack_level": 1,
            "purpose": "TxDefaultProfile",
            "kind": "Relative",
            "unit": "A",
            "periods": [{"start_period": 0, "limit": 16.0}],
        },
    )
    assert defined.status_code == 201, defined.text
    profile_id = defined.json()["profile_id"]
    path = "/api/v1/charge-points/IT-PROFILE/charging-profiles"

    async def installed(expected: list[int]) -> bool:
        response = await stack.api.get(path)
        return [p["charging_profile_id"] for p in response.json()] == expected

    async with smart_charge_point(stack.url_b, "IT-PROFILE"):
        sent = await stack.api.post(path, json={"profile_id": profile_id, "connector_id": 1})
        assert (sent.status_code, sent.json()["response"]) == (200, {"status": "Accepted"})
        await eventually(lambda: installed([profile_id]), timeout=90, interval=0.2)
        cleared = await stack.api.delete(path, params={"profile_id": profile_id})
        assert cleared.status_code == 200, cleared.text
        await eventually(lambda: installed([]), timeout=90, interval=0.2)
    removed = await stack.api.get(path, params={"include_removed": "true"})
    assert [p["removed_by"] for p in removed.json()] == ["cleared"]


def smart_station_at(url: str, station_id: str) -> AbstractAsyncContextManager[Any]:
    return charging_station(url, station_id, kind=SmartStation)


async def test_a_201_station_gets_a_profile_in_the_201_form_derived_into_cassandra(
    stack: Stack,
) -> None:
    """The stack API knows the station's version from the derived state (it is held by
    gateway B): SetChargingProfile goes in the 2.0.1 form, its Accepted is derived by the
    Faust worker into Cassandra; then cleared by chargingProfileId."""
    defined = await stack.api.post(
        "/api/v1/charging-profiles",
        json={
            "name": "Stack 2.0.1 cap",
            "stack_level": 0,
            "purpose": "ChargePointMaxProfile",
            "kind": "Relative",
            "unit": "W",
            "periods": [{"start_period": 0, "limit": 11000.0}],
        },
    )
    assert defined.status_code == 201, defined.text
    profile_id = defined.json()["profile_id"]
    path = "/api/v1/charge-points/IT-201-PROFILE/charging-profiles"

    async def known_as_201() -> bool:
        response = await stack.api.get("/api/v1/charge-points/IT-201-PROFILE")
        state = response.json().get("state") if response.status_code == 200 else None
        return bool(state and state["ocpp_version"] == "ocpp2.0.1")

    async def installed(expected: list[tuple[int, str]]) -> bool:
        response = await stack.api.get(path)
        found = [(p["charging_profile_id"], p["purpose"]) for p in response.json()]
        return found == expected

    async with smart_station_at(stack.url_b, "IT-201-PROFILE") as station:
        assert await boot_station(station) == "Accepted"
        await eventually(known_as_201, timeout=90, interval=0.2)
        sent = await stack.api.post(path, json={"profile_id": profile_id, "connector_id": 0})
        assert (sent.status_code, sent.json()["response"]) == (200, {"status": "Accepted"})
        assert station.received[-1][1]["charging_profile_purpose"] == "ChargingStationMaxProfile"
        wanted = [(profile_id, "ChargingStationMaxProfile")]
        await eventually(lambda: installed(wanted), timeout=90, interval=0.2)
        cleared = await stack.api.delete(path, params={"profile_id": profile_id})
        assert cleared.status_code == 200, cleared.text
        assert station.received[-1] == ("ClearChargingProfile", {"charging_profile_id": profile_id})
        await eventually(lambda: installed([]), timeout=90, interval=0.2)


async def test_the_worker_keeps_a_local_list_in_sync(stack: Stack) -> None:
    """A list assigned through the stack API reaches a charge point on gateway A from the
    Faust worker's controller (commands over Kafka), Full in parts, then a blocked tag."""
    for tag, status in (("IT-A", "Accepted"), ("IT-B", "Blocked"), ("IT-C", "Accepted")):
        put = await stack.api.put(f"/api/v1/id-tags/{tag}", json={"status": status})
        assert put.status_code == 200, put.text
    async with booted(stack.url_a, "IT-LIST", ListKeepingChargePoint) as cp:

        async def known() -> bool:
            return (await stack.api.get("/api/v1/charge-points/IT-LIST")).status_code == 200

        await eventually(known, timeout=90, interval=0.2)
        assigned = await stack.api.put(
            "/api/v1/charge-points/IT-LIST/local-list", json={"tags": ["IT-A", "IT-B", "IT-C"]}
        )
        assert assigned.status_code == 200, assigned.text
        await in_sync_at(stack.api, "IT-LIST", 10000, timeout=90)
        assert cp.sent_lists() == [("Full", 9999), ("Differential", 10000)]
        assert cp.held["IT-B"] == {"status": "Blocked"}
        blocked = await stack.api.put("/api/v1/id-tags/IT-A", json={"status": "Blocked"})
        assert blocked.status_code == 200, blocked.text
        await in_sync_at(stack.api, "IT-LIST", 20000, timeout=90)
        assert cp.held["IT-A"] == {"status": "Blocked"}


async def test_a_site_limit_is_divided_by_the_worker_owning_the_site(stack: Stack) -> None:
    """Site load management in the stack: the Faust worker's SiteController owns the site,
    reads Cassandra and sends the profiles through Kafka to either gateway."""
    async with (
        booted(stack.url_a, "IT-SITE-A", SiteChargePoint) as a,
        booted(stack.url_b, "IT-SITE-B", SiteChargePoint) as b,
    ):
        b.profiles = a.profiles
        for cp in (a, b):

            async def known(cp_id: str = cp.id) -> bool:
                response = await stack.api.get(f"/api/v1/charge-points/{cp_id}")
                return response.status_code == 200 and bool(response.json()["state"])

            await eventually(known, timeout=90, interval=0.2)
        site = {"max_current_a": 32, "charge_points": ["IT-SITE-A", "IT-SITE-B"]}
        assert (await stack.api.put("/api/v1/sites/it-depot", json=site)).status_code == 200

        async def received(*expected: tuple[str, str, float]) -> bool:
            return all(item in limits(a.profiles) for item in expected)

        await start(a, 0)
        await eventually(lambda: received(("IT-SITE-A", "TxProfile", 32.0)), timeout=90)
        mark = len(a.profiles)
        await start(b, 60)
        both = (("IT-SITE-A", "TxProfile", 16.0), ("IT-SITE-B", "TxProfile", 16.0))
        await eventually(lambda: received(*both), timeout=90)
        sessions = [s for s in limits(a.profiles[mark:]) if s[1] == "TxProfile"]
        assert sessions[:2] == list(both)  # the decrease first

        async def shown() -> bool:
            body = (await stack.api.get("/api/v1/sites/it-depot")).json()
            return [(s["allocated_a"], s["status"]) for s in body["sessions"]] == [
                (16.0, "Accepted"),
                (16.0, "Accepted"),
            ]

        await eventually(shown, timeout=90, interval=0.2)


async def test_a_firmware_campaign_runs_its_waves_from_the_worker(stack: Stack) -> None:
    """A campaign over charge points on both gateways, sent by the Faust worker's controller
    through Kafka, one at a time; progress from Cassandra through the stack API."""
    async with (
        booted(stack.url_a, "IT-FW1", FirmwareChargePoint) as first,
        booted(stack.url_b, "IT-FW2", FirmwareChargePoint) as second,
    ):
        for cp in (first, second):
            await cp.boot("1.0")

        async def known() -> bool:
            found = [
                await stack.api.get(f"/api/v1/charge-points/{i}") for i in ("IT-FW1", "IT-FW2")
            ]
            return all(r.status_code == 200 and r.json()["state"] for r in found)

        await eventually(known, timeout=90, interval=0.2)
        made = await stack.api.post(
            "/api/v1/firmware-campaigns",
            json={
                "location": "https://firmware.example/2.0.bin",
                "retrieve_date": datetime.now(UTC).isoformat(),
                "charge_points": ["IT-FW1", "IT-FW2"],
                "wave_size": 1,
            },
        )
        assert made.status_code == 201, made.text
        cid = made.json()["campaign"]["campaign_id"]
        await eventually(lambda: sent_to(first), timeout=90, interval=0.2)
        assert not second.received  # the wave holds one
        await first.report("Downloading", "Downloaded", "Installing", "Installed")
        await eventually(lambda: sent_to(second), timeout=90, interval=0.2)
        await second.boot("2.0")

        async def finished() -> bool:
            response = await stack.api.get(f"/api/v1/firmware-campaigns/{cid}")
            return bool(response.json()["status"] == "finished")

        await eventually(finished, timeout=90, interval=0.2)
    done = (await stack.api.get(f"/api/v1/firmware-campaigns/{cid}")).json()
    assert done["counts"]["installed"] == 2
    assert {t["charge_point_id"]: t["firmware_after"] for t in done["targets"]} == {
        "IT-FW1": None,
        "IT-FW2": "2.0",
    }


async def known(api: httpx.AsyncClient, *charge_point_ids: str) -> bool:
    """The worker has derived them connected (the API answers 404 for one it has not seen)."""
    for charge_point_id in charge_point_ids:
        response = await api.get(f"/api/v1/charge-points/{charge_point_id}")
        state = response.json().get("state") if response.status_code == 200 else None
        if not (state and state["connected"]):
            return False
    return True


async def test_diagnostics_through_the_stack_api_are_uploaded_listed_and_downloaded(
    stack: Stack,
) -> None:
    """GetDiagnostics through the stack API over Kafka to gateway A; the charge point uploads
    to the API over HTTP (and a second file over FTP), both listed and downloadable."""
    content = b"stack diagnostics \x00\xff\n" * 500
    async with diagnostics_charge_point(stack.url_a, "IT-DIAG") as cp:
        await eventually(lambda: known(stack.api, "IT-DIAG"), timeout=90, interval=0.2)
        locations: dict[str, tuple[str, str]] = {}
        for protocol in ("http", "ftp"):
            response = await stack.api.post(
                "/api/v1/charge-points/IT-DIAG/diagnostics", json={"protocol": protocol}
            )
            assert response.status_code == 200, response.text
            assert response.json()["command"]["response"] == {"fileName": "diag.tar.gz"}
            locations[protocol] = (response.json()["file_id"], cp.received[-1][1]["location"])
    http_id, http_location = locations["http"]
    assert http_location.startswith(str(stack.api.base_url).rstrip("/") + "/uploads/")
    async with httpx.AsyncClient() as charger:  # no bearer token: the location is enough
        uploaded = await charger.put(http_location + "stack.log", content=content)
        assert uploaded.status_code == 201, uploaded.text
        assert (await charger.put(http_location, content=b"again")).status_code == 409
    ftp_id, ftp_location = locations["ftp"]
    answer = await asyncio.to_thread(ftp_store, ftp_location, "stack-ftp.log", b"by ftp")
    assert answer.startswith("226")

    listed = (await stack.api.get("/api/v1/charge-points/IT-DIAG/diagnostics")).json()
    assert sorted((f["file_id"], f["file_name"], f["size"]) for f in listed) == sorted(
        [(http_id, "stack.log", len(content)), (ftp_id, "stack-ftp.log", 6)]
    )
    download = await stack.api.get(f"/api/v1/charge-points/IT-DIAG/diagnostics/{http_id}")
    assert download.status_code == 200 and download.content == content
    assert download.headers["x-content-sha256"] == hashlib.sha256(content).hexdigest()
    by_ftp = await stack.api.get(f"/api/v1/charge-points/IT-DIAG/diagnostics/{ftp_id}")
    assert by_ftp.content == b"by ftp"


async def test_a_bulk_command_has_an_outcome_per_charge_point_across_gateways(
    stack: Stack,
) -> None:
    """POST /commands/bulk through the stack API: two charge points on two gateway nodes
    answer over Kafka, one known but gone is not_connected; each in the command log."""
    async with charge_point(stack.url_a, "IT-BULK-OFF") as gone:
        await gone.call(call.BootNotification(charge_point_model="m", charge_point_vendor="v"))
        await eventually(lambda: known(stack.api, "IT-BULK-OFF"), timeout=90, interval=0.2)

    async def offline() -> bool:
        state = (await stack.api.get("/api/v1/charge-points/IT-BULK-OFF")).json()["state"]
        return state is not None and not state["connected"]

    await eventually(offline, timeout=90, interval=0.2)
    async with (
        charge_point(stack.url_a, "IT-BULK-A") as on_a,
        charge_point(stack.url_b, "IT-BULK-B") as on_b,
    ):
        for cp in (on_a, on_b):
            await cp.call(call.BootNotification(charge_point_model="m", charge_point_vendor="v"))
        await eventually(
            lambda: known(stack.api, "IT-BULK-A", "IT-BULK-B"), timeout=90, interval=0.2
        )
        response = await stack.api.post(
            "/api/v1/commands/bulk",
            json={
                "action": BULK_ACTION,
                "payload": {"connectorId": 0, "type": "Inoperative"},
                "charge_point_ids": ["IT-BULK-A", "IT-BULK-OFF", "IT-BULK-B"],
            },
            headers={"X-Chargestream-Operator": "ada"},
        )
        assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3 and body["outcomes"] == {"answered": 2, "not_connected": 1}
    assert [(r["charge_point_id"], r["outcome"]) for r in body["results"]] == [
        ("IT-BULK-A", "answered"),
        ("IT-BULK-OFF", "not_connected"),
        ("IT-BULK-B", "answered"),
    ]
    assert body["results"][0]["response"] == {"status": "Accepted"}
    for charge_point_id in ("IT-BULK-A", "IT-BULK-B", "IT-BULK-OFF"):
        params = {"charge_point_id": charge_point_id}
        log = (await stack.api.get("/api/v1/commands", params=params)).json()
        assert [(c["action"], c["sent_by"]) for c in log] == [(BULK_ACTION, "operator:ada")]


receiver = test_notifications.receiver  # a real HTTP receiver for the webhook


async def test_each_fault_is_notified_once_across_two_workers(
    stack: Stack, worker_logs: Path, receiver: Receiver
) -> None:
    """Two workers, the second joining (a rebalance) while charge points fault: every
    faulted alert is sent exactly once, claimed with an LWT in Cassandra."""
    hook = {"kind": "webhook", "target": receiver.url, "secret": SECRET, "alert_kind": "faulted"}
    path = "/api/v1/notification-channels/it-notify"
    assert (await stack.api.put(path, json=hook)).status_code == 200
    charge_points = [f"IT-NOTE-{i}" for i in range(8)]  # spread over the partitions

    async def faults(charge_point_id: str) -> None:
        async with charge_point(stack.url_a, charge_point_id) as cp:
            await cp.call(call.BootNotification(charge_point_model="m", charge_point_vendor="v"))
            await cp.call(
                call.StatusNotification(
                    connector_id=1, error_code="GroundFailure", status="Faulted"
                )
            )

    second = WorkerProcess(stack.settings, worker_logs, name="notify-worker")
    second.start()
    try:
        await asyncio.gather(*(faults(cp) for cp in charge_points))

        async def delivered() -> list[dict[str, Any]] | None:
            entries = (await stack.api.get("/api/v1/notifications")).json()
            done = [e for e in entries if e["channel_id"] == "it-notify"]
            ready = len(done) >= len(charge_points) and all(
                e["status"] == "delivered" for e in done
            )
            return done if ready else None

        entries = await eventually(delivered, timeout=120, interval=0.5)
    finally:
        second.stop()
        await stack.api.delete(path)
    assert sorted(e["charge_point_id"] for e in entries) == charge_points
    bodies = receiver.bodies()
    assert sorted(b["charge_point_id"] for b in bodies) == charge_points  # one each
    assert all(signed(headers, body) for headers, body in receiver.requests)


async def test_reports_read_cassandra_through_the_stack_api(stack: Stack) -> None:
    """Availability, an exclusion and utilization of a charge point derived by the workers."""
    cp_id = "IT-REP-1"
    query = {**REPORT_PERIOD, "charge_point": cp_id}

    async def settled() -> Any:
        report = (await stack.api.get("/api/v1/reports/availability", params=query)).json()
        ports = report["ports"]
        return ports and ports[0]["seconds_by_status"].get("Available") == 7800 and ports[0]

    async with booted(stack.url_a, cp_id, TestChargePoint) as cp:
        await drive_1_6(cp)
        port = await eventually(settled, timeout=90, interval=0.5)
    assert port["seconds_by_status"] == {"Available": 7800, "Charging": 1200, "Faulted": 1800}
    window = {"start": REPORT_PERIOD["from"], "end": REPORT_PERIOD["to"], "kind": "outage"}
    added = await stack.api.post("/api/v1/reports/exclusions", json=window | {"site_id": "x"})
    assert added.status_code == 201, added.text
    assert added.json() in (await stack.api.get("/api/v1/reports/exclusions")).json()
    path = f"/api/v1/reports/exclusions/{added.json()['exclusion_id']}"
    assert (await stack.api.delete(path)).status_code == 204
    params = {**REPORT_PERIOD, "group": "charge_point"}
    rows = (await stack.api.get("/api/v1/reports/utilization", params=params)).json()["rows"]
    assert {
        "group": cp_id,
        "sessions": 1,
        "energy_kwh": 7.5,
        "charging_h": 0.333,
        "idle_h": 0.0,
    } in rows
