"""The stack mode's processes: gateway node, API, and the supervisor of ``make stack``.

Each process builds its parts from the settings (``CHARGESTREAM_MODE=stack``):
Kafka for the event log and commands, Cassandra for the store, Faust for
the views (streams/worker.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any

from chargestream.api import create_api
from chargestream.api.ops import ops_app
from chargestream.app.backends import create_stack_event_log, create_stack_store
from chargestream.app.diagnostics import DiagnosticsUploads
from chargestream.app.http import HttpServer
from chargestream.app.lifecycle import settle_garbage_collector
from chargestream.app.pki import with_pki
from chargestream.domain.frames import LoggedEvent
from chargestream.domain.passwords import hash_charge_point_password, verify_password
from chargestream.domain.records import Registration
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka_clients import client_config, ensure_topics
from chargestream.eventlog.kafka_frames import KafkaFrames
from chargestream.gateway.commands import CommandService, csms_sender
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CentralSystem
from chargestream.gateway.remote import CommandListener, KafkaDispatch
from chargestream.gateway.schemas import compile_all
from chargestream.gateway.server import Gateway

log = logging.getLogger("chargestream")

NODE_TTL = 15  # seconds a gateway node stays "alive" without announcing itself


class StackGateway:
    """One gateway node: WebSockets in, frames to Kafka, commands from its topic."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = create_stack_store(settings)
        self.event_log = create_stack_event_log(settings)
        directory = Directory(self.store, settings.cache_ttl)
        self.central = CentralSystem(settings, self.store, directory)
        self.gateway = Gateway(
            settings, self.event_log, self.central, directory, registry=self.store
        )
        # CertificateSigned goes to a charge point connected here: no Kafka round trip
        local = CommandService(
            self.gateway.call,
            self.store,
            timeout=settings.command_timeout,
            version_of=self.gateway.version_of,
        )
        self.central.send_command = csms_sender(local)
        self.listener = CommandListener(
            client_config(settings), settings.node_id, self.gateway.call
        )
        self._ops = HttpServer(ops_app(self._health), settings.health_host, settings.health_port)
        self._heartbeat: asyncio.Task[None] | None = None

    async def _health(self) -> dict[str, Any]:
        return {"node": self.settings.node_id, "connected": len(self.gateway.connections)}

    async def start(self, *, tls_port: int | None = None) -> int:
        """``tls_port``: the wss:// listener's port instead of the setting (0: any free one)."""
        compile_all()
        pki = await asyncio.to_thread(with_pki, self.settings)
        pki.announce()
        await self.central.signer.load(pki.settings.ca_cert_file, pki.settings.ca_key_file)
        await self.store.open()
        await self.event_log.open()
        await self.store.node_alive(self.settings.node_id, NODE_TTL)
        self._heartbeat = asyncio.create_task(self._keep_node_alive(), name="node-heartbeat")
        await self.listener.start()
        port = await self.gateway.start(tls=pki.tls, tls_port=tls_port)
        await self._ops.start()
        settle_garbage_collector()
        log.info(
            "started",
            extra={
                "fields": {
                    "mode": "stack",
                    "role": "gateway",
                    "node": self.settings.node_id,
                    "ocpp_port": port,
                    "ocpp_tls_port": self.gateway.tls_port,
                    "kafka": self.settings.kafka_bootstrap,
                }
            },
        )
        return port

    async def _keep_node_alive(self) -> None:
        while True:
            await asyncio.sleep(NODE_TTL / 3)
            with contextlib.suppress(Exception):
                await self.store.node_alive(self.settings.node_id, NODE_TTL)

    async def stop(self) -> None:
        await self.gateway.stop()  # charge points reconnect to another node
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await self.listener.stop()
        await self._ops.stop()
        await self.event_log.close()
        await self.store.close()
        log.info("stopped", extra={"fields": {"role": "gateway"}})


class StackApi:
    """The HTTP API: reads Cassandra, sends commands over Kafka to the right node."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = create_stack_store(settings)
        self.dispatch = KafkaDispatch(
            client_config(settings),
            f"api-{settings.node_id}",
            self.store,
        )
        self.commands = CommandService(self.dispatch, self.store, timeout=settings.command_timeout)
        self.diagnostics = DiagnosticsUploads(settings)
        self.frames = KafkaFrames(
            client_config(settings), settings.frames_topic, budget=settings.frames_scan_records
        )
        self._http = HttpServer(
            create_api(
                settings,
                self.store,
                self.commands,
                recent_frames=self.recent_frames if settings.frames_scan_records else None,
                ftp=self.diagnostics.ftp,
            ),
            settings.api_host,
            settings.api_port,
        )

    async def start(self) -> int:
        compile_all()
        await self.store.open()
        await self.dispatch.start()
        port = await self._http.start()
        ftp_port = await self.diagnostics.start()
        log.info(
            "started",
            extra={"fields": {"mode": "stack", "role": "api", "port": port, "ftp_port": ftp_port}},
        )
        return port

    async def stop(self) -> None:
        await self._http.stop()
        await self.diagnostics.stop()
        await self.dispatch.stop()
        await self.frames.close()
        await self.store.close()
        log.info("stopped", extra={"fields": {"role": "api"}})

    async def recent_frames(self, charge_point_id: str, limit: int) -> list[LoggedEvent]:
        """The frame inspector's events, read from Kafka back from the charge point's last
        sign of life."""
        state = await self.store.get_charge_point_state(charge_point_id)
        last_seen = state.last_seen if state is not None else None
        return await self.frames.recent_for(charge_point_id, limit, last_seen)


async def bootstrap(settings: Settings, passwords: dict[str, str] | None = None) -> None:
    """Create the frames topic and the keyspace; optionally set charge point passwords.

    Run once before the first start and after upgrades (the Helm chart's hook Job).
    Passwords already stored are left alone, so running it again changes nothing.
    """
    await asyncio.to_thread(
        ensure_topics, client_config(settings), {settings.frames_topic: settings.frames_partitions}
    )
    store = create_stack_store(settings)
    await store.open()
    try:
        for charge_point_id, password in (passwords or {}).items():
            current = await store.get_registration(charge_point_id) or Registration(
                charge_point_id, created_at=datetime.now(UTC)
            )
            if current.password_hash and verify_password(password, current.password_hash):
                continue
            await store.put_registration(
                dataclasses.replace(
                    current,
                    password_hash=hash_charge_point_password(password),
                    next_password_hash=None,
                )
            )
            log.info("password_set", extra={"fields": {"cp": charge_point_id}})
    finally:
        await store.close()
    log.info(
        "bootstrapped",
        extra={
            "fields": {
                "topic": settings.frames_topic,
                "partitions": settings.frames_partitions,
                "keyspace": settings.cassandra_keyspace,
                "passwords": len(passwords or {}),
            }
        },
    )
