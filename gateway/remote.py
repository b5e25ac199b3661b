"""Commands across gateway nodes (stack mode).

A charge point is held by one gateway node. The API looks the node up in
the connection registry and produces the command onto that node's topic
``ocpp.commands.<node>``; the node sends the CALL and produces the answer
onto the requester's topic ``ocpp.command-replies.<requester>``. Every hop
carries the deadline, so a command that arrives late is dropped, and the
requester times out exactly once. See docs/adr/0004-command-routing.md.

Both messages are typed (``chargestream.domain.commands``); one that does not decode is
logged and dropped: a request is never sent, a requester waiting for a reply times out.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from confluent_kafka import Message

from chargestream.domain.commands import CommandRequest, MalformedCommand
from chargestream.eventlog.kafka_clients import (
    AsyncProducer,
    PollingThread,
    consumer,
    ensure_topics,
    producer_config,
)
from chargestream.gateway.connection import NotConnected, Reply
from chargestream.gateway.requests import Call, Requester, execute
from chargestream.storage.base import ConnectionRegistry

log = logging.getLogger("chargestream.commands")


def command_topic(node: str) -> str:
    return f"ocpp.commands.{node}"


def reply_topic(requester: str) -> str:
    return f"ocpp.command-replies.{requester}"


class _TopicPump:
    """Consumes one topic from its end in a thread and hands values to the loop."""

    def __init__(self, client: dict[str, Any], topic: str, handle: Callable[[bytes], None]) -> None:
        self._client = client
        self._topic = topic
        self._handle = handle
        self._consumer = consumer(
            client,
            f"{topic}-{uuid.uuid4().hex[:8]}",
            **{"auto.offset.reset": "latest", "enable.auto.commit": True},
        )
        self._poller = PollingThread(f"pump-{topic}", self._poll)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        await asyncio.to_thread(ensure_topics, self._client, {self._topic: 1})
        self._loop = asyncio.get_running_loop()
        assigned = asyncio.Event()
        loop = self._loop

        def on_assign(*_: Any) -> None:
            loop.call_soon_threadsafe(assigned.set)

        self._consumer.subscribe([self._topic], on_assign=on_assign)
        self._poller.start()
        await asyncio.wait_for(assigned.wait(), 30)

    def _poll(self, timeout: float) -> None:
        message: Message | None = self._consumer.poll(timeout)
        if message is None or message.error() is not None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._handle, message.value() or b"")

    def stop(self) -> None:
        self._poller.stop()
        self._consumer.close()


class CommandListener:
    """Runs on a gateway node: executes commands addressed to it."""

    def __init__(self, client: dict[str, Any], node: str, call: Call) -> None:
        self._call = call
        self._producer = AsyncProducer(producer_config(client))
        self._pump = _TopicPump(client, command_topic(node), self._received)
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._producer.start()
        await self._pump.start()

    async def stop(self) -> None:
        self._pump.stop()
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self._producer.stop()

    def _received(self, value: bytes) -> None:
        try:
            request = CommandRequest.from_bytes(value)
        except MalformedCommand as error:
            log.warning("command_request_malformed", extra={"fields": {"error": str(error)}})
            return
        task = asyncio.create_task(self._execute(request))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _execute(self, request: CommandRequest) -> None:
        answer = await execute(self._call, request)
        if answer is not None:
            await self._producer.produce(reply_topic(request.reply_to), None, answer.to_bytes())


class KafkaDispatch:
    """Runs in API processes: sends a command to the node holding the charge point."""

    def __init__(
        self, client: dict[str, Any], requester: str, registry: ConnectionRegistry
    ) -> None:
        self._registry = registry
        self._producer = AsyncProducer(producer_config(client))
        self._requests = Requester(requester)
        self._pump = _TopicPump(client, reply_topic(requester), self._requests.received)

    async def start(self) -> None:
        self._producer.start()
        await self._pump.start()

    async def stop(self) -> None:
        self._pump.stop()
        await self._producer.stop()

    async def __call__(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Reply:
        node = await self._registry.node_for(charge_point_id)
        if node is None:
            raise NotConnected(charge_point_id)

        def deliver(request: bytes) -> Awaitable[object]:
            return self._producer.produce(command_topic(node), None, request)

        return await self._requests.send(charge_point_id, action, payload, timeout, deliver)
