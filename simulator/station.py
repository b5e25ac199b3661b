"""One simulated charge point's OCPP-J connection, driven by a single asyncio task.

Each turn of the task's loop fires whatever is due (the charge point's own
timers, a boot retry, a planned drop), sends the next queued CALL if none is
outstanding (OCPP 1.6 and 2.0.1 allow one at a time), then waits for a frame or the
next due time. There are no per-message tasks or futures, which is what
keeps thousands of stations per core cheap.

When the connection is lost, unanswered transaction messages stay queued and
go out again after the next accepted BootNotification with the same message
id and payload, as real chargers do (see ``ChargePoint.went_offline``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any, NamedTuple

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from chargestream.simulator import commands, commands_v201
from chargestream.simulator.chargepoint import Call, ChargePoint
from chargestream.simulator.config import FleetConfig
from chargestream.simulator.history import history_calls
from chargestream.simulator.ledger import Ledger
from chargestream.simulator.rng import Rng
from chargestream.simulator.session import NEVER
from chargestream.simulator.stats import FleetStats
from chargestream.simulator.v201 import ChargePointV201

log = logging.getLogger(__name__)

CALL, CALLRESULT, CALLERROR = 2, 3, 4

_NEED_TRANSACTION = frozenset({"StopTransaction", "MeterValues"})
_BOOT_RETRY = 10.0  # seconds, when BootNotification fails without an interval
_BACKOFF_CAP = 60.0


class _Dialect(NamedTuple):
    """How a version answers the CSMS: its handlers and the error code of a missing field."""

    handlers: dict[str, commands.Handler]
    unsupported: frozenset[str]
    missing_field: str


_DIALECTS = {
    "ocpp1.6": _Dialect(commands.HANDLERS, commands.UNSUPPORTED, "OccurenceConstraintViolation"),
    "ocpp2.0.1": _Dialect(
        commands_v201.HANDLERS, commands_v201.UNSUPPORTED, "OccurrenceConstraintViolation"
    ),
}


class Station:
    __slots__ = (
        "_attempts",
        "_backfill",
        "_boot_at",
        "_config",
        "_drain_until",
        "_drop_at",
        "_in_flight",
        "_loop",
        "_reconnect_at",
        "_sent_at",
        "_seq",
        "_stats",
        "_stopping",
        "_timeout",
        "_token",
        "_ws",
        "cp",
    )

    def __init__(
        self,
        index: int,
        config: FleetConfig,
        stats: FleetStats,
        *,
        seed: int,
        token: str,
        ledger: Ledger | None = None,
    ) -> None:
        """Station number ``index``; ``token`` makes message ids unique across runs."""
        kind = ChargePointV201 if config.speaks_v201(index) else ChargePoint
        self.cp = kind(index, config, stats, Rng(seed, index), ledger)
        self._config = config
        self._stats = stats
        self._token = token
        self._ws: ClientConnection | None = None
        self._in_flight: Call | None = None
        self._sent_at = 0.0
        self._seq = 0
        self._attempts = 0
        self._backfill = config.backfill_days > 0
        self._boot_at = self._drop_at = self._reconnect_at = NEVER
        self._stopping = False
        self._drain_until: float | None = None
        self._timeout: asyncio.Timeout | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def id(self) -> str:
        return self.cp.id

    async def run(self, start_delay: float = 0.0) -> None:
        """Connect after ``start_delay`` seconds and simulate until ``request_stop``."""
        self._loop = loop = asyncio.get_running_loop()
        self._reconnect_at = loop.time() + start_delay
        try:
            while await self._turn(loop.time()):
                pass
        finally:
            self._abort()

    def request_stop(self) -> None:
        """Stop sessions, wait up to ``stop_grace`` for their answers, then disconnect."""
        self._stopping = True
        timeout = self._timeout
        if timeout is not None and not timeout.expired():
            timeout.reschedule(self._now())  # wake the task up

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    # ------------------------------------------------------------------ loop

    async def _turn(self, now: float) -> bool:
        """One turn of the loop; False once the station has stopped."""
        try:
            if self._stopping and self._drained(now):
                await self._close()
                return False
            if self._ws is None and now >= self._reconnect_at:
                await self._connect()
                return True
            if self.cp.reset_type and self._ws is not None and self._idle():
                await self._reboot(now)
                return True
            self._fire(now)
            await self._flush()
            frame = await self._wait(self._deadline())
            if frame is not None:
                await self._handle(frame)
        except (ConnectionClosed, OSError) as error:
            self._note_error(f"{self.id}: connection lost: {error}")
            self._lost(self._now())
        except Exception as error:  # a bug: retrying could spin without ever awaiting
            log.exception("%s: unexpected error; this station stops", self.id)
            self._stats.protocol_errors += 1
            self._note_error(f"{self.id}: {error!r}")
            return False
        return True

    def _idle(self) -> bool:
        return self._in_flight is None and not self.cp.outbox

    def _deadline(self) -> float:
        deadline = min(self.cp.next_due(), self._drop_at)
        if self._ws is None:
            deadline = min(deadline, self._reconnect_at)
        elif self._in_flight is not None:
            deadline = min(deadline, self._sent_at + self._config.call_timeout)
        elif not self.cp.online:
            deadline = min(deadline, self._boot_at)
        if self._drain_until is not None:
            deadline = min(deadline, self._drain_until)
        return deadline

    async def _wait(self, deadline: float) -> bytes | None:
        """The next frame, or None at ``deadline`` or when woken by ``request_stop``."""
        ws = self._ws
        try:
            async with asyncio.timeout_at(None if deadline == NEVER else deadline) as timeout:
                self._timeout = timeout
                if ws is None:
                    await self._never()
                else:
                    return await ws.recv(decode=False)
        except TimeoutError:
            pass
        finally:
            self._timeout = None
        return None

    def _never(self) -> asyncio.Future[None]:
        """A future nobody completes: offline waits end only by deadline or wake-up."""
        assert self._loop is not None
        return self._loop.create_future()

    def _fire(self, now: float) -> None:
        if self._ws is not None:
            call = self._in_flight
            if call is not None and now >= self._sent_at + self._config.call_timeout:
                self._stats.timeouts += 1
                self._note_error(f"{self.id}: no answer to {call.action} {call.message_id}")
                self._lost(now)
            elif self.cp.online and now >= self._drop_at:
                self._stats.drops += 1
                self._lost(now, planned=True)
        self.cp.fire(now)

    async def _flush(self) -> None:
        """Send the next CALL unless one is outstanding; BootNotification comes first."""
        if self._ws is None or self._in_flight is not None:
            return
        if not self.cp.online:
            if self._now() >= self._boot_at:
                await self._send_call(self.cp.boot_call())
            return
        outbox = self.cp.outbox
        while outbox and outbox[0].due_at <= self._now():
            call = outbox.popleft()
            if self._ready(call):
                await self._send_call(call)
                return

    @staticmethod
    def _ready(call: Call) -> bool:
        """Fill in the transaction id; False if the transaction never got one."""
        session = call.session
        if call.frame is not None or session is None or call.action not in _NEED_TRANSACTION:
            return True
        if session.transaction_id is None:
            return False
        call.payload["transactionId"] = session.transaction_id
        return True

    async def _send_call(self, call: Call) -> None:
        assert self._ws is not None
        stats = self._stats
        if call.frame is None:
            self._seq += 1
            call.message_id = f"{self._token}{self._seq}"
            call.frame = orjson.dumps([CALL, call.message_id, call.action, call.payload])
        else:
            stats.resends += 1
        self._in_flight = call  # before sending: if the send fails it is still unanswered
        self._sent_at = self._now()
        await self._ws.send(call.frame, text=True)
        stats.frames_sent += 1
        stats.calls_sent += 1

    # ------------------------------------------------------------ connection

    async def _connect(self) -> None:
        config = self._config
        self._reconnect_at = NEVER
        headers = None
        if config.password is not None:
            credentials = base64.b64encode(f"{self.id}:{config.password}".encode()).decode()
            headers = {"Authorization": f"Basic {credentials}"}
        options: dict[str, Any] = {}
        if config.source_addresses:
            addresses = config.source_addresses
            options["local_addr"] = (addresses[(self.cp.index - 1) % len(addresses)], 0)
        try:
            ws = await connect(
                f"{config.url.rstrip('/')}/{self.id}",
                subprotocols=[Subprotocol(self.cp.subprotocol)],
                compression=None,
                additional_headers=headers,
                proxy=None,
                open_timeout=config.call_timeout or None,
                ping_interval=None,  # Heartbeat is the keep-alive; no extra task per connection
                close_timeout=2,
                **options,
            )
        except (OSError, TimeoutError, InvalidHandshake) as error:
            self._stats.connect_failures += 1
            self._note_error(f"{self.id}: cannot connect: {error}")
            self._reconnect_at = self._now() + self._backoff()
            return
        if ws.subprotocol != self.cp.subprotocol:
            self._stats.connect_failures += 1
            self._note_error(
                f"{self.id}: the CSMS did not accept subprotocol {self.cp.subprotocol}"
            )
            ws.transport.abort()
            self._reconnect_at = self._now() + self._backoff()
            return
        self._ws = ws
        self._stats.connected += 1
        self._stats.connects += 1
        self._boot_at = self._now()

    def _backoff(self) -> float:
        """Exponential backoff with jitter, so a restarted CSMS is not hit all at once."""
        delay = min(_BACKOFF_CAP, self._config.reconnect_delay * 2 ** min(self._attempts, 16))
        self._attempts += 1
        return self.cp.rng.uniform(delay / 2, delay)

    def _lost(self, now: float, *, planned: bool = False) -> None:
        ws, self._ws = self._ws, None
        if ws is None:
            return
        ws.transport.abort()
        self._stats.connected -= 1
        if not planned:
            self._stats.disconnects += 1
        self._drop_at = NEVER
        self.cp.went_offline(self._in_flight, now)
        self._in_flight = None
        self._reconnect_at = now + self._backoff()

    async def _reboot(self, now: float) -> None:
        """Finish a Reset: disconnect and come back as a freshly booted charge point."""
        log.info("%s: %s reset", self.id, self.cp.reset_type)
        assert self._ws is not None
        await self._ws.close()
        self._ws = None
        self._stats.connected -= 1
        self._drop_at = NEVER
        self.cp.rebooted(now)
        self._reconnect_at = now + self.cp.rng.uniform(1, 3)

    def _drained(self, now: float) -> bool:
        """While stopping: True once the stop messages are answered or time is up."""
        if self._drain_until is None:
            self._drain_until = now + self._config.stop_grace
            self._drop_at = NEVER
            self.cp.stop(now)
        return self._ws is None or now >= self._drain_until or (self.cp.online and self._idle())

    async def _close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
            self._stats.connected -= 1

    def _abort(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            self._stats.connected -= 1
            ws.transport.abort()

    def _note_error(self, text: str) -> None:
        log.debug("%s", text)
        self._stats.last_error = text

    # -------------------------------------------------------------- frames in

    async def _handle(self, frame: bytes) -> None:
        stats = self._stats
        stats.frames_received += 1
        try:
            message = orjson.loads(frame)
            kind = message[0]
        except (ValueError, TypeError, IndexError, KeyError):
            stats.protocol_errors += 1
            self._note_error(f"{self.id}: not an OCPP-J frame: {frame[:100]!r}")
            return
        if kind == CALL:
            await self._answer(message)
        elif kind in (CALLRESULT, CALLERROR):
            self._on_answer(message, kind)
        else:
            stats.protocol_errors += 1
            self._note_error(f"{self.id}: unknown message type in {frame[:100]!r}")

    def _on_answer(self, message: list[Any], kind: int) -> None:
        stats = self._stats
        call = self._in_flight
        if call is None or len(message) < 3 or message[1] != call.message_id:
            stats.protocol_errors += 1
            self._note_error(f"{self.id}: answer to no outstanding CALL: {message!r:.100}")
            return
        now = self._now()
        self._in_flight = None
        stats.calls_answered += 1
        if not self._stopping:  # the burst of final StopTransactions is our artefact
            stats.latency.add(int((now - self._sent_at) * 1_000_000))
        if kind == CALLRESULT:
            try:
                payload = message[2]
                if call.action == "BootNotification":
                    self._on_boot(payload["status"], int(payload["interval"]), now)
                else:
                    self.cp.on_result(call, payload, now)
                return
            except (KeyError, TypeError, ValueError):
                stats.protocol_errors += 1
                self._note_error(f"{self.id}: malformed {call.action} answer {message[2]!r:.100}")
        else:
            stats.call_errors += 1
            self._note_error(f"{self.id}: CALLERROR for {call.action}: {message[2:4]}")
            log.info("%s: CALLERROR for %s: %s", self.id, call.action, message[2:4])
        if call.action == "BootNotification":
            self._boot_at = now + _BOOT_RETRY
        else:
            self.cp.on_failure(call, now)

    def _on_boot(self, status: str, interval: int, now: float) -> None:
        if status != "Accepted":
            log.info("%s: BootNotification %s, retrying in %s s", self.id, status, interval)
            self._boot_at = now + (interval if interval > 0 else _BOOT_RETRY)
            return
        self._attempts = 0
        rate = self._config.reconnect_rate
        if not self.cp.came_online(interval, now):
            return
        if rate:
            self._drop_at = now + self.cp.rng.expovariate(self._config.per_second(rate))
        if self._backfill:  # once, after the first boot, before its boot statuses
            self._backfill = False
            days, tags = self._config.backfill_days, self._config.id_tags
            past = history_calls(self.cp, tags, days, time.time(), now)
            self.cp.outbox.extendleft(reversed(past))

    async def _answer(self, message: list[Any]) -> None:
        assert self._ws is not None
        stats = self._stats
        stats.csms_calls += 1
        dialect = _DIALECTS[self.cp.subprotocol]
        try:
            _, message_id, action, payload = message
            handler = dialect.handlers.get(action)
        except (ValueError, TypeError):
            stats.protocol_errors += 1
            self._note_error(f"{self.id}: malformed CALL {message!r:.100}")
            return
        reply: list[Any]
        if handler is None:
            code = "NotSupported" if action in dialect.unsupported else "NotImplemented"
            reply = [CALLERROR, message_id, code, f"{action} is not supported", {}]
        else:
            try:
                reply = [CALLRESULT, message_id, handler(self.cp, payload, self._now())]
            except KeyError as error:
                reply = [CALLERROR, message_id, dialect.missing_field, str(error), {}]
            except (TypeError, ValueError, AttributeError) as error:
                reply = [CALLERROR, message_id, "TypeConstraintViolation", str(error), {}]
            except Exception as error:
                log.exception("%s: answering %s failed", self.id, action)
                reply = [CALLERROR, message_id, "InternalError", repr(error), {}]
        await self._ws.send(orjson.dumps(reply), text=True)
        stats.frames_sent += 1
