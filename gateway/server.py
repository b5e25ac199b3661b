"""The WebSocket server: handshake checks and the table of live connections."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import weakref
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from chargestream.domain.frames import EventKind
from chargestream.domain.passwords import verify_password
from chargestream.domain.settings import Settings
from chargestream.eventlog.base import EventLog, EventLogUnavailable
from chargestream.gateway import metrics
from chargestream.gateway.connection import Connection, NotConnected, Reply
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CentralSystem
from chargestream.storage.base import ConnectionRegistry, StoreUnavailable

log = logging.getLogger("chargestream.gateway")

SUBPROTOCOL = "ocpp1.6"
PATH_PREFIX = "/ocpp/"
MAX_ID_LENGTH = 48
# Frames above max_frame_bytes get a CALLERROR; above this hard limit the
# WebSocket library closes the connection (1009, message too big).
HARD_LIMIT_FACTOR = 16


class Gateway:
    def __init__(
        self,
        settings: Settings,
        event_log: EventLog,
        central: CentralSystem,
        directory: Directory,
        registry: ConnectionRegistry | None = None,
    ) -> None:
        self.settings = settings
        self._registry = registry
        self._log = event_log
        self._central = central
        self._directory = directory
        self.connections: dict[str, Connection] = {}
        self._connect_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._verified: dict[str, str] = {}  # cp id -> sha256(password + stored hash)
        self._server: Server | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await serve(
            self._serve_connection,
            host or self.settings.ocpp_host,
            self.settings.ocpp_port if port is None else port,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            process_request=self._check_handshake,
            compression=None,
            max_size=self.settings.max_frame_bytes * HARD_LIMIT_FACTOR,
            reuse_port=self.settings.reuse_port,
        )
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        """Close every WebSocket (charge points reconnect elsewhere) and stop listening."""
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None

    # -- handshake

    async def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        charge_point_id = _charge_point_id(request.path)
        if charge_point_id is None:
            return self._refuse(connection, HTTPStatus.NOT_FOUND, "path", "use /ocpp/{id}\n")
        offered = {
            protocol.strip()
            for header in request.headers.get_all("Sec-WebSocket-Protocol")
            for protocol in header.split(",")
        }
        if SUBPROTOCOL not in offered:
            return self._refuse(
                connection, HTTPStatus.BAD_REQUEST, "subprotocol", "subprotocol ocpp1.6 required\n"
            )
        registration = await self._directory.registration(charge_point_id)
        if registration is not None and registration.password_hash:
            password = _basic_password(request.headers, charge_point_id)
            if password is None or not self._password_ok(
                charge_point_id, password, registration.password_hash
            ):
                response = self._refuse(
                    connection, HTTPStatus.UNAUTHORIZED, "auth", "invalid credentials\n"
                )
                response.headers["WWW-Authenticate"] = 'Basic realm="chargestream"'
                return response
        return None

    def _password_ok(self, charge_point_id: str, password: str, stored: str) -> bool:
        """Verify, remembering success so reconnect storms skip the slow hash."""
        fingerprint = hashlib.sha256(f"{password}\0{stored}".encode()).hexdigest()
        if self._verified.get(charge_point_id) == fingerprint:
            return True
        if verify_password(password, stored):
            self._verified[charge_point_id] = fingerprint
            return True
        return False

    @staticmethod
    def _refuse(
        connection: ServerConnection, status: HTTPStatus, reason: str, text: str
    ) -> Response:
        metrics.HANDSHAKE_REFUSALS.labels(reason).inc()
        log.info("handshake_refused", extra={"fields": {"reason": reason, "status": int(status)}})
        return connection.respond(status, text)

    # -- connections

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        charge_point_id = _charge_point_id(websocket.request.path)  # type: ignore[union-attr]
        assert charge_point_id is not None  # checked in the handshake
        registration = await self._directory.registration(charge_point_id)
        connection = Connection(
            charge_point_id,
            websocket,
            self._log,
            self._central,
            node=self.settings.node_id,
            lenient=registration.lenient if registration else self.settings.lenient,
            max_frame_bytes=self.settings.max_frame_bytes,
        )
        remote = websocket.remote_address
        lock = self._connect_locks.setdefault(charge_point_id, asyncio.Lock())
        async with lock:
            previous = self.connections.get(charge_point_id)
            if previous is not None:
                await previous.record_disconnect(reason="replaced")
                # Not awaited: a dead peer would hold the new connection for close_timeout.
                closing = asyncio.create_task(
                    previous.websocket.close(1000, "replaced by a new connection")
                )
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
            self.connections[charge_point_id] = connection
            await self._log.append(
                [
                    connection.lifecycle_event(
                        EventKind.CONNECTED, remote=str(remote[0]) if remote else None
                    )
                ]
            )
        metrics.CONNECTIONS.inc()
        log.info("connected", extra={"fields": {"cp": charge_point_id, "replaced": bool(previous)}})
        try:
            await self._register_connection(charge_point_id, opened=True)
            await connection.serve()
        finally:
            metrics.CONNECTIONS.dec()
            if self.connections.get(charge_point_id) is connection:
                del self.connections[charge_point_id]
                await self._register_connection(charge_point_id, opened=False)
            try:
                await connection.record_disconnect(
                    reason="closed", code=websocket.close_code, close_reason=websocket.close_reason
                )
            except EventLogUnavailable as error:  # the views see it at the next connect
                metrics.LOG_FAILURES.inc()
                log.error(
                    "disconnect_not_stored",
                    extra={"fields": {"cp": charge_point_id, "error": str(error)}},
                )
            log.info("disconnected", extra={"fields": {"cp": charge_point_id}})

    async def _register_connection(self, charge_point_id: str, *, opened: bool) -> None:
        """Tell the connection registry (stack mode); charging goes on if it fails."""
        if self._registry is None:
            return
        node = self.settings.node_id
        try:
            if opened:
                await self._registry.connection_opened(charge_point_id, node)
            else:
                await self._registry.connection_closed(charge_point_id, node)
        except StoreUnavailable as error:
            log.error(
                "registry_update_failed",
                extra={"fields": {"cp": charge_point_id, "opened": opened, "error": str(error)}},
            )

    async def call(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Reply:
        connection = self.connections.get(charge_point_id)
        if connection is None:
            raise NotConnected(charge_point_id)
        return await connection.call(action, payload, timeout)


def _charge_point_id(path: str) -> str | None:
    if not path.startswith(PATH_PREFIX):
        return None
    identity = unquote(path[len(PATH_PREFIX) :].split("?", 1)[0])
    if not 0 < len(identity) <= MAX_ID_LENGTH or "/" in identity or not identity.isprintable():
        return None
    return identity


def _basic_password(headers: Headers, charge_point_id: str) -> str | None:
    value = headers.get("Authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password if username == charge_point_id else None
