"""The embedded derivation in a process of its own (docs/adr/0015-embedded-derivation-process.md).

With ``CHARGESTREAM_DERIVATION=process`` (the default) ``chargestream run`` keeps the
gateway, the log's appends and the API in its own process and starts a child that follows
``events.db`` (a follower log: it reads the frames and keeps its checkpoint there), derives
into ``store.db`` and runs the controllers: the two get a core each instead of sharing one
interpreter.

The two talk over a socket pair, one message a line: ``S`` from the child once it follows
the log; ``C`` + a ``CommandRequest`` (a controller's command for the parent's gateway) and
``R`` + its ``CommandReply`` (the codecs of the stack's command topics); ``M`` + the child's
counters, which the parent's /metrics serves. The child ends after a last derivation pass
on SIGTERM, and at once when the parent's end closes (the parent died); the parent starts
it again if it dies.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from multiprocessing.process import BaseProcess
from typing import Any

import orjson
from prometheus_client import Counter

from chargestream.app.backends import create_embedded_store
from chargestream.app.controllers import build_controllers
from chargestream.app.lifecycle import settle_garbage_collector
from chargestream.app.logs import configure_logging
from chargestream.domain.commands import MAX_MESSAGE_BYTES, CommandRequest, MalformedCommand
from chargestream.domain.settings import Settings
from chargestream.eventlog.sqlite import SqliteEventLog
from chargestream.gateway import metrics as gateway_metrics
from chargestream.gateway.commands import CommandService, csms_sender
from chargestream.gateway.connection import Reply
from chargestream.gateway.requests import Call, Requester, execute
from chargestream.streams import metrics
from chargestream.streams.backoff import Backoff
from chargestream.streams.derive import DerivationSettings
from chargestream.streams.runner import LogProcessor

log = logging.getLogger("chargestream")

STARTED, COMMAND, REPLY, COUNTERS = b"S", b"C", b"R", b"M"
LINE_LIMIT = MAX_MESSAGE_BYTES + 64  # the longest line either end reads
COUNTERS_EVERY = 5.0  # seconds between two reports of the child's counters
STOP_TIMEOUT = 60.0  # seconds the child has for its last pass before it is killed
CHANNEL_GRACE = 10.0  # seconds a child whose end of the channel closed has to exit
RESTART_FIRST = 1.0  # seconds before restarting a derivation that died (either kind)
RESTART_MOST = 60.0
REQUESTER = "derivation"

FORWARDED: dict[str, Counter] = {  # the child's counters the parent's /metrics serves
    "chargestream_derivation_skipped": metrics.SKIPPED_EVENTS,
    "chargestream_commands": gateway_metrics.COMMANDS,
}
_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads forked


class DerivationProcess:
    """The parent's side: starts the child, answers its commands, restarts it if it dies."""

    def __init__(self, settings: Settings, call: Call) -> None:
        self._settings = settings
        self._call = call
        self._supervisor: asyncio.Task[None] | None = None
        self._child: BaseProcess | None = None
        self._exit: asyncio.Task[None] | None = None  # done when the child has exited
        self._ready = asyncio.Event()  # the running child follows the log
        self._stopping = False
        self._counters = ChildCounters()

    @property
    def pid(self) -> int | None:
        """The child's process id once it follows the log (None: none does)."""
        child = self._child
        if child is None or not child.is_alive() or not self._ready.is_set():
            return None
        return child.pid

    async def start(self) -> None:
        self._supervisor = asyncio.create_task(
            keep_deriving(self._run_child, lambda: self._stopping), name="derivation-process"
        )

    async def stop(self) -> None:
        """SIGTERM: the child derives what is left, then exits (killed after STOP_TIMEOUT).

        A child still starting is let start first, so that the last pass runs."""
        self._stopping = True
        child, exit = self._child, self._exit
        if child is not None and exit is not None and not exit.done():
            ready = asyncio.create_task(self._ready.wait())
            await asyncio.wait(
                (ready, exit), timeout=STOP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            ready.cancel()
            child.terminate()
            if not (await asyncio.wait((exit,), timeout=STOP_TIMEOUT))[0]:
                log.error("derivation_process_killed", extra={"fields": {"pid": child.pid}})
                child.kill()
                await exit
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)

    async def _run_child(self) -> None:
        """One child's life; ``ProcessExited`` if it ended without being stopped."""
        ours, theirs = socket.socketpair()
        child = _SPAWN.Process(
            target=run_child, args=(self._settings, theirs), name="chargestream-derivation"
        )
        child.daemon = True  # multiprocessing ends it, too, when this process exits
        await asyncio.to_thread(child.start)
        theirs.close()
        self._child, self._counters = child, ChildCounters()
        self._ready.clear()
        if self._stopping:  # stop() came while it started: it stops like the one before
            child.terminate()
        reader, writer = await asyncio.open_connection(sock=ours, limit=LINE_LIMIT)
        serving = asyncio.create_task(self._serve(child.pid, reader, writer))
        self._exit = exiting = asyncio.create_task(_exited(child))
        try:
            await asyncio.wait((serving, exiting), return_when=asyncio.FIRST_COMPLETED)
            if not exiting.done():  # its end closed: a child exiting closes it first
                await asyncio.wait((exiting,), timeout=CHANNEL_GRACE)
            if not exiting.done():  # the channel broke: a child no longer heard is replaced
                log.error("derivation_channel_closed", extra={"fields": {"pid": child.pid}})
                child.kill()
                await asyncio.shield(exiting)
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            writer.close()
        if not self._stopping:
            raise ProcessExited(f"the derivation process exited with code {child.exitcode}")

    async def _serve(
        self, pid: int | None, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        running: set[asyncio.Task[None]] = set()
        try:
            async for kind, body in _lines(reader):
                if kind == STARTED:
                    self._ready.set()
                    log.info("derivation_process_started", extra={"fields": {"pid": pid}})
                elif kind == COMMAND:
                    task = asyncio.create_task(self._execute(body, writer))
                    running.add(task)
                    task.add_done_callback(running.discard)
                elif kind == COUNTERS:
                    self._counters.merge(body)
        finally:
            for task in running:
                task.cancel()

    async def _execute(self, body: bytes, writer: asyncio.StreamWriter) -> None:
        try:
            request = CommandRequest.from_bytes(body)
        except MalformedCommand as error:
            log.warning("command_request_malformed", extra={"fields": {"error": str(error)}})
            return
        answer = await execute(self._call, request)
        if answer is not None:  # None: the child times out by itself
            writer.write(REPLY + answer.to_bytes() + b"\n")


class ProcessExited(Exception):
    """The derivation process ended without being told to."""


async def keep_deriving(
    run: Callable[[], Awaitable[None]], stopping: Callable[[], bool] = lambda: False
) -> None:
    """Run a derivation (``run``: the processor here, or a child process's life) until
    cancelled or ``stopping()``; if it fails, log it, count it and start it again.

    It waits RESTART_FIRST seconds before the first restart, doubling up to RESTART_MOST
    while it keeps dying; a run that lasted RESTART_MOST starts over.
    """
    backoff = Backoff(RESTART_FIRST, RESTART_MOST)
    while not stopping():
        started = time.monotonic()
        try:
            await run()
        except Exception:  # anything but cancellation: derivation must go on
            if not stopping():
                metrics.PROCESSOR_RESTARTS.inc()
                log.exception("processor_failed", extra={"fields": {"restart_in": backoff.delay}})
        if stopping():
            return
        if time.monotonic() - started >= RESTART_MOST:
            backoff.reset()
        await backoff.wait()


class ChildCounters:
    """The parent's side of a child's counter reports: adds to the parent's counters what
    the child counted since its last report (a new child: a new ``ChildCounters``)."""

    def __init__(self, counters: Mapping[str, Counter] = FORWARDED) -> None:
        self._counters = counters
        self._seen: dict[tuple[str, str], float] = {}  # the child's totals so far

    def merge(self, report: bytes) -> None:
        try:
            totals = orjson.loads(report)
        except orjson.JSONDecodeError:
            totals = None
        if not isinstance(totals, list):
            log.warning("derivation_counters_malformed")
            return
        for entry in totals:
            match entry:
                case [str(name), dict(labels), int() | float() as total] if name in self._counters:
                    counter = self._counters[name]
                case _:
                    continue
            key = (name, orjson.dumps(labels).decode())
            added = total - self._seen.get(key, 0.0)
            self._seen[key] = total
            if added > 0:
                try:
                    (counter.labels(**labels) if labels else counter).inc(added)
                except ValueError:  # labels this counter does not have
                    log.warning("derivation_counters_malformed")


def counter_report(counters: Mapping[str, Counter] = FORWARDED) -> bytes:
    """The child's side: the totals of its counters, as [name, labels, total] triples."""
    return orjson.dumps(
        [
            [name, sample.labels, sample.value]
            for name, counter in counters.items()
            for family in counter.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
        ]
    )


async def _exited(child: BaseProcess) -> None:
    """Until the child has exited (and is reaped)."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_reader(child.sentinel, done.set)
    try:
        await done.wait()
    finally:
        loop.remove_reader(child.sentinel)
    child.join()


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[tuple[bytes, bytes]]:
    """The channel's messages (kind, body) until the other end closes; a line over
    LINE_LIMIT ends it."""
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # longer than the limit: no telling where the next one starts
            log.error("derivation_channel_line_too_long")
            return
        if not line.endswith(b"\n"):
            return  # closed, or cut short: the other end died mid-line
        yield line[:1], line[1:-1]


# -- the child


def run_child(settings: Settings, channel: socket.socket) -> None:
    """The child's main (a spawned interpreter): follow the log until told to stop.

    Ctrl-C reaches the whole process group; the child ignores it and stops when the
    parent, stopping, sends SIGTERM.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(_follow(settings, channel))
    except Exception:
        log.exception("derivation_process_failed")
        raise SystemExit(1) from None


async def _follow(settings: Settings, channel: socket.socket) -> None:
    store = create_embedded_store(settings)
    event_log = SqliteEventLog(settings.event_log_path, sync=settings.log_sync, follower=True)
    reader, writer = await asyncio.open_connection(sock=channel, limit=LINE_LIMIT)
    dispatch = ChannelDispatch(writer)
    service = CommandService(dispatch, store, timeout=settings.command_timeout)
    controllers = build_controllers(settings, store, csms_sender(service))
    processor = LogProcessor(
        event_log, store, DerivationSettings.of(settings), controllers=controllers
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await store.open()
    await event_log.open()
    settle_garbage_collector()
    writer.write(STARTED + b"\n")
    tasks = {
        asyncio.create_task(processor.run(), name="processor"),
        asyncio.create_task(every(settings.control_interval, processor.reconcile)),
        asyncio.create_task(every(COUNTERS_EVERY, lambda: _report(writer))),
        asyncio.create_task(dispatch.receive(reader), name="parent"),  # ends: the parent died
        asyncio.create_task(stop.wait(), name="stop"),
    }
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # the processor's failure ends the child (the parent restarts it)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            if stop.is_set():
                await processor.process_available()  # the views include the last frames
        except Exception:  # the next start derives them
            log.exception("final_derivation_failed")
        finally:
            await event_log.close()
            await store.close()


async def every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
    """``work`` every ``seconds`` (e.g. the controllers' pass), until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        await work()


async def _report(writer: asyncio.StreamWriter) -> None:
    writer.write(COUNTERS + counter_report() + b"\n")
    await writer.drain()


class ChannelDispatch:
    """The child's command dispatch: a ``CommandRequest`` to the parent's gateway."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._requests = Requester(REQUESTER)

    async def __call__(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> Reply:
        return await self._requests.send(charge_point_id, action, payload, timeout, self._write)

    async def _write(self, request: bytes) -> None:
        self._writer.write(COMMAND + request + b"\n")
        await self._writer.drain()

    async def receive(self, reader: asyncio.StreamReader) -> None:
        """Hand the parent's replies to their waiting commands, until the parent is gone."""
        async for kind, body in _lines(reader):
            if kind == REPLY:
                self._requests.received(body)
