"""Faust workers: the derivation of streams.derive on the Kafka log, into the store.

Per-charge-point derivation state lives in a changelog-backed Faust table
keyed by charge point id, co-partitioned with ``ocpp.frames`` (the gateway
produces with murmur2, like Faust). Events are taken in batches: derive
each, write every record (awaited), then assign the new states to the
table and acknowledge the events. Writing before assigning keeps a crash
safe: the table never says an event was applied whose records were not
stored, and re-applying an event from the old state yields the same records
(idempotent upserts).

Two batches are in flight at most (ADR 0014): while one batch's records are
written, the next is gathered and derived from the states the first left in
memory (``_pending``). Batches are stored in order, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka.partitioner import murmur2
from confluent_kafka import KafkaException
from faust.types import TP, Message

from chargestream.domain.frames import FrameEvent, LoggedEvent
from chargestream.domain.records import DerivedRecord
from chargestream.domain.settings import Settings
from chargestream.eventlog.kafka import logged_event, read_range
from chargestream.eventlog.kafka_clients import (
    AsyncProducer,
    GroupOffsets,
    client_config,
    producer_config,
)
from chargestream.storage.base import StackStore, StoreUnavailable
from chargestream.streams import metrics
from chargestream.streams.backoff import Backoff
from chargestream.streams.contiguity import admit
from chargestream.streams.control import Controllers, Observed, Owns
from chargestream.streams.derive import ChargePointDerivation, DerivationSettings, tick
from chargestream.streams.faust_app import WorkerApp
from chargestream.streams.skipping import Derived, derive_batch, upsert_skipping
from chargestream.streams.watchdog import Remedy, StallWatch

log = logging.getLogger("chargestream.worker")

BATCH_SIZE = 2000  # events; a backlog is worked off in batches this large
TICK_INTERVAL = 10.0
CHANGELOG_SEGMENT_MS = 10 * 60 * 1000
STALLED_EXIT_CODE = 3
MAX_GAP_READS = 20  # per batch; each fills a partition's gap


class ViewsWorker:
    """The Faust app and the store it writes to, built from settings."""

    def __init__(
        self,
        settings: Settings,
        store: StackStore,
        controllers: Controllers | None = None,
        *,
        start_commands: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``controllers`` see the events of this worker's partitions, after they are stored;
        ``start_commands`` starts the command path they send through: a task of its own,
        which derivation never waits for (their commands wait for it)."""
        self.settings = settings
        self.store = store
        self.controllers = controllers or Controllers()
        self._store_ready = asyncio.Event()
        self._decoded: dict[bytes, tuple[bytes, ChargePointDerivation]] = {}
        self._derivation = DerivationSettings.of(settings)
        self.processed = 0
        self.store_failures = 0
        self._writing = False
        # one derivation pass at a time: a tick that saved states it had read before a batch
        # changed them would put the old states back (a session would lose its start)
        self._busy = asyncio.Lock()
        # states derived but not yet in the table: the batch being stored left them
        self._pending: dict[str, ChargePointDerivation] = {}
        self._storing: asyncio.Task[None] | None = None  # the batch being stored, if any
        self._stall_watch = StallWatch(after=settings.worker_stall_after)
        self._client = client_config(settings)
        self._changelog: AsyncProducer | None = None  # the table's changelog writes
        self._group_offsets = GroupOffsets(self._client, settings.worker_group)
        self._generation = -1
        self._next_offsets: dict[int, int] = {}  # frames partition -> next offset to apply
        self._reported = 0
        self.app = WorkerApp(
            settings.worker_group,
            broker=f"kafka://{settings.kafka_bootstrap}",
            broker_credentials=broker_credentials(settings),
            store="memory://",
            datadir=str(settings.data_dir / "faust"),
            topic_partitions=settings.frames_partitions,
            web_enabled=False,
            web_host="127.0.0.1",
            web_port=settings.worker_web_port,
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=10.0,  # a dead worker's partitions move on within ~10 s
            broker_heartbeat_interval=2.0,
        )
        frames = self.app.topic(
            settings.frames_topic,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.states = self.app.Table(
            "cp-derivation",
            default=None,
            partitions=settings.frames_partitions,
            key_type=bytes,  # bytes keys and values: raw in the changelog, and murmur2 of
            value_type=bytes,  # the raw id, so changelog partition = frames partition
            use_partitioner=True,
            # Compaction never touches the active segment: roll it every 10 minutes, so a
            # worker taking over a partition reads about one state per charge point, not
            # every state since the topic was created.
            extra_topic_configs={"segment.ms": str(CHANGELOG_SEGMENT_MS)},
        )
        self.app.agent(frames, name="derive-views")(self._process)
        self.app.task(self._open_outputs)
        if start_commands is not None:
            self.app.task(start_commands)
        self.app.timer(TICK_INTERVAL)(self._tick)
        if self.controllers:
            self.app.timer(settings.control_interval)(self._reconcile)

    async def _open_outputs(self) -> None:
        """Start the changelog producer and open the store; then batches may be applied."""
        self._changelog = AsyncProducer(producer_config(self._client, **{"linger.ms": 5}))
        self._changelog.start()
        await self.store.open()
        await self._refresh_rules()
        self._store_ready.set()
        log.info("store_open", extra={"fields": {"mode": self.settings.mode.value}})

    async def health(self) -> dict[str, Any]:
        if not self._store_ready.is_set():
            raise RuntimeError("store not open yet")
        return {
            "node": self.settings.node_id,
            "processed": self.processed,
            "store_failures": self.store_failures,
        }

    async def _refresh_rules(self) -> None:
        rules = tuple(r for r in await self.store.list_alert_rules() if r.enabled)
        self._derivation = DerivationSettings.of(self.settings, rules)

    def _state(self, key: bytes, saved: bytes | None) -> ChargePointDerivation | None:
        """The table's state for ``key``, decoded once per version (the JSON is the truth)."""
        if not saved:
            return None
        cached = self._decoded.get(key)
        if cached is not None and cached[0] == saved:
            return cached[1]
        state = ChargePointDerivation.from_json(saved)
        self._decoded[key] = (saved, state)
        return state

    async def _save(self, changed: dict[str, ChargePointDerivation]) -> None:
        """Put the states into the table and into its changelog, and wait until Kafka has
        them (ADR 0017); retried while Kafka does not take them.

        The changelog records go through a confluent-kafka producer, not Faust's: the table
        gets them as Faust writes them (raw key and value, the key's murmur2 partition), but
        Faust's per-record producer path cost the worker more than deriving the event.
        Faust commits offsets after a flush of its own producer that gives up after 0.1 s;
        these records are awaited before the batch is acknowledged, so a worker killed after
        a commit never resumes past events whose new state is not in the changelog.
        """
        if not changed:
            return
        assert self._changelog is not None, "_open_outputs starts the producer first"
        topic = self.states.changelog_topic.get_topic_name()
        records = [(cp.encode(), state.to_json(), state) for cp, state in changed.items()]
        table = self.states.data
        for key, encoded, state in records:
            table[key] = encoded
            self._decoded[key] = (encoded, state)
        backoff = Backoff()
        while True:
            try:
                await asyncio.gather(
                    *(self._changelog.produce(topic, key, encoded) for key, encoded, _ in records)
                )
                return
            except (KafkaException, BufferError) as error:
                fields = {"error": repr(error)[:200], "retry_in": backoff.delay}
                log.warning("changelog_write_failed", extra={"fields": fields})
                await backoff.wait()

    async def _process(self, stream: Any) -> None:
        await self._store_ready.wait()
        wait = self.settings.worker_batch_wait
        async for events in stream.take_events(BATCH_SIZE, within=wait):
            for event in events:  # Faust acknowledges on the next take: hold them until stored
                event.message.incref()
            async with self._busy:
                await self._apply(events)

    async def _apply(self, events: list[Any]) -> None:
        """Derive a batch from the states the batches before it left, then store it once the
        batch before it is stored (in a task of its own: the next batch is gathered and
        derived meanwhile)."""
        logged_events, filled = await self._admitted(events)
        changed, derived = derive_batch(logged_events, self._saved_state, self._derivation)
        self._pending.update(changed)
        await self._stored()
        self._storing = asyncio.create_task(
            self._store(events, logged_events, filled, changed, derived)
        )

    async def _stored(self) -> None:
        """Wait until the batch being stored is (an error in storing it is raised here)."""
        storing, self._storing = self._storing, None
        if storing is not None:
            await storing

    async def _store(
        self,
        events: list[Any],
        logged_events: list[LoggedEvent],
        filled: list[Message],
        changed: dict[str, ChargePointDerivation],
        derived: Derived,
    ) -> None:
        """Store a batch's records, then save and flush its states, then acknowledge it."""
        await self._write_until_stored(derived)
        await self._save(changed)
        for charge_point_id, state in changed.items():
            if self._pending.get(charge_point_id) is state:  # no later batch changed it
                del self._pending[charge_point_id]
        consumer = self.app.consumer
        for event in events:
            event.message.ack(consumer)
        for message in filled:  # Faust never delivered them: its commit waits for these
            consumer.ack(message)
        self.processed += len(logged_events)
        if self.controllers:
            await self.controllers.observe([Observed(*pair) for pair in derived])

    async def _admitted(self, events: list[Any]) -> tuple[list[LoggedEvent], list[Message]]:
        """The batch's events that follow, without a gap, what was applied before, with
        any events missing before them read from Kafka (see streams.contiguity); and the
        records read so, to acknowledge once stored.

        After each rebalance Faust fetches from the committed offsets, so they start the
        count.
        """
        generation = self.app.consumer_generation_id
        if generation != self._generation:  # states in memory may belong to another worker now
            await self._stored()
            self._generation, self._next_offsets, self._pending = generation, {}, {}
        unknown = sorted({event.message.partition for event in events} - self._next_offsets.keys())
        if unknown:
            self._next_offsets.update(await self._start_offsets(unknown))
        items = [(e.message.partition, e.message.offset, _logged(e)) for e in events]
        filled: list[Message] = []
        for _ in range(MAX_GAP_READS):
            admission = admit([(p, o) for p, o, _ in items], self._next_offsets)
            if not admission.gaps:
                self._next_offsets = admission.next_offsets
                return [e for i in admission.admitted if (e := items[i][2]) is not None], filled
            for partition, missing in admission.gaps.items():
                until = min(o for p, o, _ in items if p == partition and o > missing)
                hole = await self._read_hole(partition, missing, until)
                at = next(i for i, (p, o, _) in enumerate(items) if (p, o) == (partition, until))
                items[at:at] = [(partition, offset, logged) for offset, logged in hole]
                topic = self.settings.frames_topic
                filled.extend(_record(topic, partition, offset) for offset, _ in hole)
        # cannot happen with Kafka's offsets; never apply past a gap: the restart resumes
        log.error("frames_gap_unfilled", extra={"fields": {"reads": MAX_GAP_READS}})
        logging.shutdown()
        os._exit(STALLED_EXIT_CODE)

    async def _read_hole(
        self, partition: int, missing: int, until: int
    ) -> list[tuple[int, LoggedEvent | None]]:
        """The events from ``missing`` up to ``until`` read straight from Kafka (retried
        while it does not answer); events the log no longer holds are skipped, logged."""
        topic = self.settings.frames_topic
        backoff = Backoff()
        while True:
            try:
                records = await asyncio.to_thread(
                    read_range, self._client, topic, partition, missing, until
                )
                break
            except Exception as error:
                fields = {"error": repr(error)[:200], "retry_in": backoff.delay}
                log.warning("frames_gap_read_failed", extra={"fields": fields})
                await backoff.wait()
        first = (records[0].offset() or 0) if records else until
        fields = {"partition": partition, "from": missing, "until": until, "read": len(records)}
        log.warning("frames_gap_filled", extra={"fields": fields})
        if first != missing:  # deleted by retention before they were applied
            log.error("frames_gap_gone", extra={"fields": {**fields, "first_kept": first}})
            self._next_offsets[partition] = first
        return [(record.offset() or 0, _logged_record(record)) for record in records]

    async def _start_offsets(self, partitions: list[int]) -> dict[int, int]:
        """Where this generation's events of ``partitions`` start: the group's committed
        offsets (or the partition's first offset still kept, if later), retried while
        Kafka does not answer."""
        topic = self.settings.frames_topic
        backoff = Backoff()
        while True:
            try:
                committed = await asyncio.to_thread(
                    self._group_offsets.committed, topic, partitions
                )
                earliest = await self.app.consumer.earliest_offsets(
                    *(TP(topic, p) for p in partitions)
                )
            except Exception as error:
                fields = {"error": repr(error)[:200], "retry_in": backoff.delay}
                log.warning("start_offsets_failed", extra={"fields": fields})
                await backoff.wait()
                continue
            first = {tp.partition: offset for tp, offset in earliest.items()}
            return {p: max(committed.get(p, 0), first.get(p, 0)) for p in partitions}

    def _saved_state(self, charge_point_id: str) -> ChargePointDerivation | None:
        pending = self._pending.get(charge_point_id)
        if pending is not None:
            return pending
        key = charge_point_id.encode()
        return self._state(key, self.states.get(key))

    async def _write_until_stored(self, derived: Derived) -> None:
        """Write a batch's records, retrying until the store takes them.

        Every write is an idempotent upsert, so retrying the whole batch is safe; giving
        up instead would either lose the batch or crash the agent. While the store is
        down the partitions' consumption pauses and the lag grows, nothing else.
        """
        backoff = Backoff()
        failures = 0
        self._writing = True  # waiting on the store, retries included: not a stalled consumer
        try:
            while True:
                try:
                    await upsert_skipping(self.store, derived)
                except StoreUnavailable as error:
                    failures += 1
                    self.store_failures += 1
                    fields = {"error": repr(error), "attempt": failures, "retry_in": backoff.delay}
                    log.warning("store_write_failed", extra={"fields": fields})
                    await backoff.wait()
                    continue
                if failures:
                    fields = {"attempts": failures + 1}
                    log.info("store_write_recovered", extra={"fields": fields})
                return
        finally:
            self._writing = False

    async def _tick(self) -> None:
        """Offline alerts for silent charge points, and fresh alert rules.

        A store error skips this tick (logged); the next one derives the same alerts,
        since states change only after their records are stored.
        """
        if not self._store_ready.is_set():
            return
        if self.processed != self._reported:
            log.info("worker_progress", extra={"fields": {"processed": self.processed}})
            self._reported = self.processed
        if self.settings.worker_stall_after:
            await self._check_stalled()
        async with self._busy:
            await self._stored()  # the table then holds every state derived so far
            await self._tick_states(datetime.now(UTC))

    async def _tick_states(self, now: datetime) -> None:
        records: list[DerivedRecord] = []
        changed: dict[str, ChargePointDerivation] = {}
        for key, saved in list(self.states.items()):
            state = self._state(key, saved)
            if state is None:
                continue
            state, derived = tick(state, now, self._derivation)
            if derived:
                changed[state.charge_point_id] = state
                records.extend(derived)
        try:
            await self._refresh_rules()
            if records:
                await self.store.upsert(records)
        except StoreUnavailable as error:  # see _write_until_stored
            self.store_failures += 1
            log.warning("tick_failed", extra={"fields": {"error": repr(error)}})
            return
        await self._save(changed)

    async def _reconcile(self) -> None:
        """The controllers' pass over the keys hashing to this worker's frames partitions."""
        if self._store_ready.is_set():
            await self.controllers.reconcile(datetime.now(UTC), self.owner())

    def owner(self) -> Owns:
        """Whether a key hashes (murmur2, like the gateway) to a partition assigned here now."""
        topic = self.settings.frames_topic
        assigned = {tp.partition for tp in self.app.consumer.assignment() if tp.topic == topic}
        count = self.app.consumer.topic_partitions(topic) or self.settings.frames_partitions

        def owns(key: str) -> bool:
            return (murmur2(key.encode()) & 0x7FFFFFFF) % count in assigned

        return owns

    async def _check_stalled(self) -> None:
        """Re-seek, then exit, when an assigned frames partition's lag stops going down.

        Exiting is the last remedy: the supervisor (``chargestream stack``, Kubernetes)
        starts the worker again, the group rebalances, and at-least-once delivery with
        idempotent derivation makes the restart lose and double nothing.
        """
        consumer = self.app.consumer
        partitions = [tp for tp in consumer.assignment() if tp.topic == self.settings.frames_topic]
        if not partitions or self.app.rebalancing:
            return
        topic = self.settings.frames_topic
        try:
            numbers = [tp.partition for tp in partitions]
            ends = await asyncio.to_thread(self._group_offsets.ends, topic, numbers)
            committed = await asyncio.to_thread(self._group_offsets.committed, topic, numbers)
        except Exception as error:  # Kafka unreachable: nothing to judge by
            log.info("stall_check_skipped", extra={"fields": {"error": repr(error)}})
            return
        stall = self._stall_watch.observe(
            time.monotonic(),
            committed,
            ends,
            self._writing,
        )
        if stall is None:
            return
        fields = {"partitions": stall.partitions, "seconds": self.settings.worker_stall_after}
        if stall.remedy is Remedy.RESEEK:
            log.warning("consumer_stalled_reseek", extra={"fields": fields})
            by_partition = {tp.partition: tp for tp in partitions}
            await consumer.seek_wait(
                {by_partition[p]: committed[p] for p in stall.partitions if p in by_partition}
            )
            return
        log.error("consumer_stalled", extra={"fields": fields})
        logging.shutdown()
        os._exit(STALLED_EXIT_CODE)


def _logged(event: Any) -> LoggedEvent | None:
    """The frame event a Kafka record carries; None (logged, counted) for one without it."""
    message = event.message
    try:
        frame = FrameEvent.from_headers(message.key, message.value, list(message.headers or ()))
    except (KeyError, ValueError, AttributeError) as error:  # not written by a gateway
        _undecodable(message.offset, error)
        return None
    return LoggedEvent(message.offset, frame)


def _logged_record(record: Any) -> LoggedEvent | None:
    """The frame event of a record read straight from Kafka; None (logged, counted) if none."""
    try:
        return logged_event(record)
    except (KeyError, ValueError) as error:
        _undecodable(record.offset(), error)
        return None


def _record(topic: str, partition: int, offset: int) -> Message:
    """A record read beside Faust, in the form Faust acknowledges."""
    return Message(topic, partition, offset, 0.0, 0, None, None, None, None)


def _undecodable(offset: int | None, error: Exception) -> None:
    """Count and log a record that carries no frame event: it is skipped."""
    metrics.SKIPPED_EVENTS.inc()
    fields = {"offset": offset, "error": repr(error)[:200]}
    log.error("frame_undecodable", extra={"fields": fields})


def broker_credentials(settings: Settings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """Faust's form of the Kafka security settings every other client gets as config."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol.endswith("SSL"):
        cafile = str(settings.kafka_ca_file) if settings.kafka_ca_file else None
        context = ssl.create_default_context(cafile=cafile)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context)
