"""A gateway whose Kafka goes away: no answer while nothing is stored, the answer after.

The module runs its own Kafka (the launcher's, in a temporary directory), since it stops
and starts it; Cassandra is the shared one.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect

from chargestream.app.stack import StackGateway
from chargestream.domain.frames import Direction
from chargestream.domain.settings import Settings
from chargestream.services import ServiceSet
from testcontainers_tests.conftest import fresh_service
from testcontainers_tests.kafka_frames import frames_of

PARTITIONS = 2


@pytest.fixture(scope="module")
def kafka() -> Iterator[ServiceSet]:
    with fresh_service("kafka") as services:
        yield services


def settings_for(kafka: ServiceSet, cassandra_contact: tuple[str, int]) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    host, port = cassandra_contact
    return Settings(
        mode="stack",
        kafka_bootstrap=kafka.kafka_bootstrap,
        frames_topic=f"outage-{suffix}.frames",
        frames_partitions=PARTITIONS,
        kafka_delivery_timeout=120,  # well beyond the outage: the held CALL is answered late
        cassandra_hosts=host,
        cassandra_port=port,
        cassandra_keyspace=f"outage_{suffix}",
        data_dir=Path(tempfile.mkdtemp(prefix="it-outage-")),  # the gateway's CA goes here
        ocpp_port=0,
        ocpp_tls_port=0,
        api_port=0,
        health_port=0,
        log_format="text",
    )


async def test_a_call_made_while_kafka_is_down_is_answered_once_it_is_stored(
    kafka: ServiceSet, cassandra_contact: tuple[str, int]
) -> None:
    settings = settings_for(kafka, cassandra_contact)
    gateway = StackGateway(settings)
    port = await gateway.start()
    try:
        url = f"ws://127.0.0.1:{port}/ocpp/IT-OUTAGE-1"
        async with connect(url, subprotocols=["ocpp1.6"]) as websocket:
            boot = {"chargePointVendor": "V", "chargePointModel": "M"}
            await websocket.send(orjson.dumps([2, "boot", "BootNotification", boot]).decode())
            assert orjson.loads(await asyncio.wait_for(websocket.recv(), 30))[0] == 3

            await asyncio.to_thread(kafka.down)
            await websocket.send('[2,"hb-1","Heartbeat",{}]')
            with pytest.raises(TimeoutError):  # not stored, so not answered
                await asyncio.wait_for(websocket.recv(), 5)
            await asyncio.to_thread(kafka.up)

            answer_text = await asyncio.wait_for(websocket.recv(), 90)
            answer = orjson.loads(answer_text)
            assert answer[:2] == [3, "hb-1"] and "currentTime" in answer[2]
            await websocket.send('[2,"hb-2","Heartbeat",{}]')  # the same connection goes on
            assert orjson.loads(await asyncio.wait_for(websocket.recv(), 30))[:2] == [3, "hb-2"]
    finally:
        await gateway.stop()

    events = await asyncio.to_thread(frames_of, settings, "IT-OUTAGE-1")
    heartbeats = [(e.direction, e.message_id) for e in events if e.message_id == "hb-1"]
    assert heartbeats == [(Direction.IN, "hb-1")]  # the exchange exactly once
    (exchange,) = [e for e in events if e.message_id == "hb-1"]
    assert exchange.answer == answer_text
