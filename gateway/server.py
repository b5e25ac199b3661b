"""The WebSocket server: handshake checks and the table of live connections.

Two listeners share one handler: plain ``ws://`` and, with certificates, ``wss://``
(gateway/tls.py). Every check happens before the upgrade, cheapest first: an address that
failed to authenticate too often (429), too many new connections from one address (429),
path and subprotocol (404, 400: no OCPP version in common, gateway/negotiation.py), the
gateway full (503), then a version the registration pins (400), then the charge point's
security profile (gateway/security.py: TLS required 403, client certificate 401/403, Basic
auth 401); the same checks for every OCPP version. The password hash is checked last, in a
small thread pool, never on the event loop, and a verified password is remembered, so a
reconnect storm pays it once per charge point and process. A charge point with a rotated
password (``gateway/rotation.py``) has two: the current and the next; the first connect
with the next makes it the only one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import random
import ssl
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargestream.domain.frames import EventKind
from chargestream.domain.passwords import iterations, verify_basic_password
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import Registration
from chargestream.domain.settings import Settings
from chargestream.eventlog.base import EventLog, EventLogUnavailable
from chargestream.gateway import metrics, rotation
from chargestream.gateway.connection import Connection, NotConnected, Reply
from chargestream.gateway.directory import Directory
from chargestream.gateway.handlers import CentralSystem
from chargestream.gateway.limits import FailureWindow, RatePerKey, address_key, retry_after
from chargestream.gateway.negotiation import choose_version, offered
from chargestream.gateway.security import Password, Refusal, admit, profile_of
from chargestream.gateway.tls import TlsFiles, peer_common_name, server_context
from chargestream.storage.base import ConnectionRegistry, StoreUnavailable

log = logging.getLogger("chargestream.gateway")

PATH_PREFIX = "/ocpp/"
MAX_ID_LENGTH = 48
# Frames above max_frame_bytes get a CALLERROR; above this hard limit the
# WebSocket library closes the connection (1009, message too big).
HARD_LIMIT_FACTOR = 16
AUTH_WINDOW = 60.0  # seconds: auth_failures_per_minute counts failures in this window
CAPACITY_RETRY = (5, 15)  # seconds a refused charge point is told to wait when we are full
# A handshake is not queued for a password check it would wait longer for than this (the
# WebSocket library drops handshakes after 10 s, without an answer the client could use).
PASSWORD_WAIT_BUDGET = 5.0
TLS_HANDSHAKE_TIMEOUT = 10.0  # seconds a client has to finish the TLS handshake
# Connections the kernel queues before the gateway accepts them (asyncio's default is 100):
# in a reconnect storm thousands arrive at once, and a full queue drops them, which costs
# each a SYN retransmission (1 s, 3 s, 7 s...). The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 4096
CALIBRATION_ITERATIONS = 20_000  # measured once at start: the cost of one PBKDF2 iteration
# Checks of less work than this do not update the measured cost per iteration: their time is
# mostly the thread pool's hand-over (a fast charge point hash is 1 "iteration").
MEASURED_WORK = 1_000


class Gateway:
    def __init__(
        self,
        settings: Settings,
        event_log: EventLog,
        central: CentralSystem,
        directory: Directory,
        registry: ConnectionRegistry | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._auth_failures = FailureWindow(settings.auth_failures_per_minute, AUTH_WINDOW)
        self._connects = RatePerKey(settings.connections_per_address)
        self._handshakes = 0  # inside _check_handshake now
        self._password_checks = 0  # waiting for or inside the pool
        self._slow_checks = 0  # of them, PBKDF2 checks (password_checks_waiting counts these)
        self._password_threads = settings.password_check_threads or max(
            1, (os.cpu_count() or 2) // 2
        )
        self._password_pool = ThreadPoolExecutor(
            self._password_threads, thread_name_prefix="password-check"
        )
        self._per_iteration = 0.0  # seconds one PBKDF2 iteration takes (a moving average)
        self._queued_seconds = 0.0  # expected work of the checks waiting or running
        self._registry = registry
        self._log = event_log
        self._central = central
        self._directory = directory
        self.connections: dict[str, Connection] = {}
        self._connect_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._verified: dict[str, str] = {}  # cp id -> sha256(password + stored hash)
        self._servers: list[Server] = []  # the plain listener, then the TLS one
        self.tls_port: int | None = None  # the TLS listener's bound port, once started
        self._closing: set[asyncio.Task[None]] = set()
        # the version each handshake in progress selected (process_request decides it)
        self._selected: weakref.WeakKeyDictionary[ServerConnection, OcppVersion] = (
            weakref.WeakKeyDictionary()
        )

    async def start(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        tls: TlsFiles | None = None,
        tls_port: int | None = None,
    ) -> int:
        """Listen; returns the bound plain port (useful with port 0).

        With ``tls``, a second listener (wss://) on ``tls_port``, else on the setting
        ``ocpp_tls_port`` unless that is 0; its bound port is ``self.tls_port``.
        """
        loop = asyncio.get_running_loop()
        self._per_iteration = await loop.run_in_executor(self._password_pool, _calibrate)
        host = host or self.settings.ocpp_host
        plain = await self._listen(host, self.settings.ocpp_port if port is None else port)
        self._servers.append(plain)
        if tls_port is None and self.settings.ocpp_tls_port:
            tls_port = self.settings.ocpp_tls_port
        if tls is not None and tls_port is not None:
            context = await asyncio.to_thread(server_context, tls)
            secure = await self._listen(host, tls_port, context)
            self._servers.append(secure)
            self.tls_port = secure.sockets[0].getsockname()[1]
        elif tls_port is not None:
            log.warning("tls_listener_off", extra={"fields": {"reason": "no certificate"}})
        bound: int = plain.sockets[0].getsockname()[1]
        return bound

    async def _listen(self, host: str, port: int, context: ssl.SSLContext | None = None) -> Server:
        return await serve(
            self._serve_connection,
            host,
            port,
            subprotocols=[Subprotocol(v.value) for v in self.settings.served_versions],
            select_subprotocol=self._select_subprotocol,
            process_request=self._check_handshake,
            compression=None,
            max_size=self.settings.max_frame_bytes * HARD_LIMIT_FACTOR,
            reuse_port=self.settings.reuse_port,
            ssl=context,
            ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if context else None,
            backlog=LISTEN_BACKLOG,
        )

    async def stop(self) -> None:
        """Close every WebSocket (charge points reconnect elsewhere) and stop listening."""
        if not self._servers:
            return
        for server in self._servers:
            server.close(close_connections=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        self.tls_port = None
        self._password_pool.shutdown(wait=False, cancel_futures=True)

    # -- handshake

    async def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        self._handshakes += 1
        try:
            return await self._handshake_answer(connection, request)
        finally:
            self._handshakes -= 1

    async def _handshake_answer(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """None to upgrade, else the refusal."""
        remote = connection.remote_address
        source = address_key(str(remote[0]) if remote else None)
        now = self._clock()
        blocked = self._auth_failures.blocked_for(source, now)
        if blocked > 0:
            return self._refuse_for(
                connection, HTTPStatus.TOO_MANY_REQUESTS, "auth_blocked", blocked, source
            )
        wait = self._connects.take(source, now)
        if wait > 0:
            return self._refuse_for(
                connection, HTTPStatus.TOO_MANY_REQUESTS, "connect_rate", wait, source
            )
        charge_point_id = _charge_point_id(request.path)
        if charge_point_id is None:
            return self._refuse(connection, HTTPStatus.NOT_FOUND, "path", "use /ocpp/{id}\n")
        protocols = offered(request.headers.get_all("Sec-WebSocket-Protocol"))
        served = self.settings.served_versions
        if choose_version(protocols, served) is None:
            names = " or ".join(version.value for version in served)
            return self._refuse(
                connection, HTTPStatus.BAD_REQUEST, "subprotocol", f"subprotocol {names} required\n"
            )
        if self._full(charge_point_id):
            return self._refuse_for(
                connection,
                HTTPStatus.SERVICE_UNAVAILABLE,
                "capacity",
                random.uniform(*CAPACITY_RETRY),
                source,
            )
        return await self._check_security(connection, request, charge_point_id, source, protocols)

    def _select_subprotocol(
        self, connection: ServerConnection, subprotocols: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The version the handshake's checks selected (the charge point's preference)."""
        version = self._selected.pop(connection, None) or choose_version(
            list(subprotocols), self.settings.served_versions
        )
        return None if version is None else Subprotocol(version.value)

    async def _check_security(
        self,
        connection: ServerConnection,
        request: Request,
        charge_point_id: str,
        source: str,
        protocols: list[str],
    ) -> Response | None:
        """A pinned version, then the charge point's security profile (gateway/security.py);
        None to upgrade."""
        registration = await self._directory.registration(charge_point_id)
        pinned = registration.ocpp_version if registration is not None else None
        version = choose_version(protocols, self.settings.served_versions, pinned)
        if version is None:
            return self._refuse(
                connection,
                HTTPStatus.BAD_REQUEST,
                "subprotocol_pinned",
                f"subprotocol {pinned} required for this charge point\n",
                source=source,
                cp=charge_point_id,
            )
        self._selected[connection] = version
        ssl_object = connection.transport.get_extra_info("ssl_object")
        profile = profile_of(registration, self.settings.default_security_profile)
        hashes = _password_hashes(registration) if registration is not None else ()
        password = _basic_password(request.headers, charge_point_id) if hashes else None
        certificate_cn = peer_common_name(ssl_object)

        def decide(state: Password) -> Refusal | None:
            return admit(
                profile,
                tls=ssl_object is not None,
                password=state,
                certificate_cn=certificate_cn,
                charge_point_id=charge_point_id,
            )

        if registration is None or not hashes:
            refusal = decide(Password.NONE_SET)
        elif password is None:  # only a next password (none yet): as if none were set
            refusal = decide(Password.NOT_SENT if registration.password_hash else Password.NONE_SET)
        else:  # the cheap rules first: no hash check for a handshake refused anyway
            refusal = decide(Password.UNCHECKED)
            if refusal is None:
                verified = await self._authenticate(charge_point_id, password, registration)
                if verified is None:
                    return self._refuse_for(
                        connection,
                        HTTPStatus.SERVICE_UNAVAILABLE,
                        "password_queue",
                        self._password_retry(),
                        source,
                    )
                refusal = decide(Password.RIGHT if verified else Password.WRONG)
        if refusal is None:
            return None
        if refusal.failed_auth:
            self._auth_failures.failed(source, self._clock())
        response = self._refuse(
            connection,
            refusal.status,
            refusal.reason,
            refusal.text,
            source=source,
            cp=charge_point_id,
            profile=profile,
        )
        if refusal.status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="chargestream"'
        return response

    @property
    def password_checks(self) -> int:
        """Handshakes waiting for or in a password check now."""
        return self._password_checks

    def _full(self, charge_point_id: str) -> bool:
        """No room for another connection (a charge point replacing its own always has)."""
        limit = self.settings.max_connections
        if not limit or charge_point_id in self.connections:
            return False
        # handshakes in progress count too, this one included
        return len(self.connections) + self._handshakes > limit

    async def _authenticate(
        self, charge_point_id: str, password: bytes, registration: Registration
    ) -> bool | None:
        """The password is the charge point's current or next one (None: no room to check).

        A password that matches neither is checked again against the stored registration
        when it differs from the cached one (a rotation stored by another process). The
        first match of the next password makes it the only one, in the store and the caches.
        """
        hashes = _password_hashes(registration)
        matched = await self._password_ok(charge_point_id, password, hashes)
        if matched is False:
            self._directory.registrations.invalidate(charge_point_id)
            fresh = await self._directory.registration(charge_point_id)
            if fresh is None or not _password_hashes(fresh):
                return True  # no password any more
            if _password_hashes(fresh) != hashes:
                registration = fresh
                matched = await self._password_ok(
                    charge_point_id, password, _password_hashes(fresh)
                )
        if not isinstance(matched, str):
            return matched
        if matched == registration.next_password_hash:
            try:
                await self._directory.promote_next_password(charge_point_id, matched)
            except StoreUnavailable as error:  # it works as the next; promoted at a later connect
                log.error(
                    "password_promotion_failed",
                    extra={"fields": {"cp": charge_point_id, "error": str(error)}},
                )
            else:
                log.info("password_rotated", extra={"fields": {"cp": charge_point_id}})
        return True

    async def _password_ok(
        self, charge_point_id: str, password: bytes, hashes: tuple[str, ...]
    ) -> str | bool | None:
        """The hash ``password`` matches (False: none), verified off the event loop;
        success is remembered so reconnects skip the hash.

        None when too many slow (PBKDF2) checks are already waiting, or the ones waiting would
        keep this one longer than ``PASSWORD_WAIT_BUDGET`` (the handshake is refused with
        503). Fast checks are not counted: a storm of them is over in moments, and refusing
        them only brings the handshakes back.
        """
        for stored in hashes:
            fingerprint = _fingerprint(password, stored)
            if self._verified.get(charge_point_id) == fingerprint:
                metrics.PASSWORD_CHECKS.labels("remembered").inc()
                return stored
        work = sum(iterations(stored) for stored in hashes)
        slow = work >= MEASURED_WORK
        waiting = self.settings.password_checks_waiting
        if slow and waiting and self._slow_checks >= waiting:
            return None
        cost = work * self._per_iteration
        wait = (self._queued_seconds + cost) / self._password_threads
        if self._password_checks and wait > PASSWORD_WAIT_BUDGET:
            return None
        self._password_checks += 1
        self._slow_checks += slow
        self._queued_seconds += cost
        try:
            loop = asyncio.get_running_loop()
            matched, seconds = await loop.run_in_executor(
                self._password_pool, _timed_check, password, hashes
            )
        finally:
            self._password_checks -= 1
            self._slow_checks -= slow
            self._queued_seconds -= cost
        if slow:
            measured = seconds / work
            self._per_iteration = 0.8 * self._per_iteration + 0.2 * measured
        metrics.PASSWORD_CHECKS.labels("verified" if matched else "failed").inc()
        if matched is None:
            return False
        self._verified[charge_point_id] = _fingerprint(password, matched)
        return matched

    def _password_retry(self) -> float:
        """When to come back: once the checks queued now are done, spread over as long
        again (so the pool stays busy and the refused do not come back together)."""
        drained = self._queued_seconds / self._password_threads
        return max(1.0, drained) * random.uniform(1.0, 2.0)

    def _refuse_for(
        self,
        connection: ServerConnection,
        status: HTTPStatus,
        reason: str,
        seconds: float,
        source: str,
    ) -> Response:
        """A refusal the client may retry after ``seconds`` (the Retry-After header)."""
        wait = retry_after(seconds)
        response = self._refuse(
            connection, status, reason, f"{status.phrase}: retry after {wait} s\n", source=source
        )
        response.headers["Retry-After"] = str(wait)
        return response

    @staticmethod
    def _refuse(
        connection: ServerConnection,
        status: HTTPStatus,
        reason: str,
        text: str,
        *,
        source: str | None = None,
        cp: str | None = None,
        profile: int | None = None,
    ) -> Response:
        metrics.HANDSHAKE_REFUSALS.labels(reason).inc()
        fields: dict[str, Any] = {"reason": reason, "status": int(status)}
        if source is not None:
            fields["source"] = source
        if cp is not None:
            fields["cp"] = cp
        if profile is not None:
            fields["security_profile"] = profile
        log.info("handshake_refused", extra={"fields": fields})
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
            version=OcppVersion(websocket.subprotocol or OcppVersion.V16),
            node=self.settings.node_id,
            lenient=registration.lenient if registration else self.settings.lenient,
            max_frame_bytes=self.settings.max_frame_bytes,
            calls_per_second=self.settings.calls_per_second,
            refused_frame_bytes=self.settings.refused_frame_bytes,
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
            connection.abandon_calls()  # commands waiting for an answer end now
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

    def version_of(self, charge_point_id: str) -> OcppVersion | None:
        """The OCPP version of the charge point's live connection here (None: none)."""
        connection = self.connections.get(charge_point_id)
        return connection.version if connection is not None else None

    async def call(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Reply:
        """Send a CALL; a password rotation is kept here, where the answer arrives
        (``gateway/rotation.py``)."""
        connection = self.connections.get(charge_point_id)
        if connection is None:
            raise NotConnected(charge_point_id)
        return await rotation.call(
            self._directory, connection.call, charge_point_id, action, payload, timeout
        )


def _calibrate() -> float:
    """Seconds one PBKDF2-SHA256 iteration takes here (run in the pool's thread)."""
    began = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", b"calibration", b"0123456789abcdef", CALIBRATION_ITERATIONS)
    return (time.perf_counter() - began) / CALIBRATION_ITERATIONS


def _timed_check(password: bytes, hashes: tuple[str, ...]) -> tuple[str | None, float]:
    """The first of ``hashes`` the password matches, and how long the checks took (run in
    the pool's thread)."""
    began = time.perf_counter()
    matched = next((h for h in hashes if verify_basic_password(password, h)), None)
    return matched, time.perf_counter() - began


def _password_hashes(registration: Registration) -> tuple[str, ...]:
    """The hashes a charge point may authenticate with: its current and next password."""
    return tuple(h for h in (registration.password_hash, registration.next_password_hash) if h)


def _fingerprint(password: bytes, stored: str) -> str:
    """What the verified-password cache keeps of a password checked against ``stored``."""
    return hashlib.sha256(password + b"\0" + stored.encode()).hexdigest()


def _charge_point_id(path: str) -> str | None:
    if not path.startswith(PATH_PREFIX):
        return None
    identity = unquote(path[len(PATH_PREFIX) :].split("?", 1)[0])
    if not 0 < len(identity) <= MAX_ID_LENGTH or "/" in identity or not identity.isprintable():
        return None
    return identity


def _basic_password(headers: Headers, charge_point_id: str) -> bytes | None:
    """The Basic-auth password as bytes: a charger using a hex key's bytes sends what is not
    UTF-8 (the user id must be the charge point's)."""
    value = headers.get("Authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).partition(b":")
    except ValueError:  # binascii.Error, or not ASCII
        return None
    return password if username == charge_point_id.encode() else None
