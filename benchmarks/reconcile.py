"""After the load: what the charge points did against what the stack stored.

- Sessions: every transaction in the simulator's ledger must be served by the API exactly
  once, with the ledger's charge point, connector, meters, energy and times, and every
  charge point's listing must hold no other completed session and no session twice. A
  2.0.1 transaction (a string id the station chose) is looked up by the session id the CSMS
  derives from it (``session_id``).
- Frames: for a sample of charge points, the MeterValues and StopTransaction CALLs (2.0.1:
  the TransactionEvents, with the Ended one as the stop) are read
  back from Kafka (with the gateway's receive time, header ``ts``) and matched with their
  Cassandra rows: the sampled values each frame carried against the rows stored, and
  ``WRITETIME`` (the worker's client timestamp, µs) minus the receive time as the delay
  from the gateway to Cassandra.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
from confluent_kafka import Consumer, Message, TopicPartition

from chargestream.streams.derive_v201 import transaction_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
API_CONCURRENCY = 32
READ_BATCH = 10_000  # Kafka messages per consume()
_MS = timedelta(milliseconds=1)


def millis(text: str) -> int:
    """An ISO 8601 time (as OCPP or the API writes it) in ms since the epoch."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _MS


def quantiles(values: list[float]) -> dict[str, float | int | None]:
    """p50, p99, p99.9 and max (nearest rank) and the sample count."""
    ordered = sorted(values)

    def rank(q: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))], 1)

    return {
        "p50": rank(0.5),
        "p99": rank(0.99),
        "p99.9": rank(0.999),
        "max": rank(1.0),
        "samples": len(ordered),
    }


# -- sessions


@dataclass
class SessionCounts:
    ledger: int = 0  # transactions the simulator completed (StopTransaction answered)
    found: int = 0  # of those, served by GET /sessions/{id}
    lost: int = 0  # in the ledger, not stored
    mismatched: int = 0  # stored with other values than the ledger's
    doubled: int = 0  # an id twice in a listing or the ledger, or one session under two ids
    extra: int = 0  # completed sessions stored that the ledger does not have
    open: int = 0  # stored sessions without a stop
    unlisted: int = 0  # in the ledger but missing from its charge point's listing
    stored: int = 0  # sessions listed for the fleet's charge points
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text)


def read_ledger(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


def session_id(entry: dict[str, Any]) -> int:
    """The API's id of a ledger line's session: the 1.6 transactionId the CSMS allocated, or
    the id it derives from a 2.0.1 station's own transaction id."""
    if entry.get("ocppVersion") == "2.0.1":
        return transaction_id(entry["station"], entry["transactionId"])
    return int(entry["transactionId"])


def _differences(entry: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    expected = {
        "charge_point_id": entry["station"],
        "connector_id": entry["connector"],
        "meter_start": entry["meterStart"],
        "meter_stop": entry["meterStop"],
        "stop_reason": entry["stopReason"],
    }
    if entry.get("ocppVersion") == "2.0.1":
        expected["station_transaction_id"] = entry["transactionId"]
    wrong = [name for name, value in expected.items() if stored.get(name) != value]
    energy = stored.get("energy_kwh")
    if energy is None or abs(energy - entry["energyWh"] / 1000) > 1e-9:
        wrong.append("energy_kwh")
    for name, key in (("start_time", "startTimestamp"), ("stop_time", "stopTimestamp")):
        if stored.get(name) is None or millis(stored[name]) != millis(entry[key]):
            wrong.append(name)
    return wrong


async def _get_all(client: httpx.AsyncClient, paths: list[str]) -> list[Any]:
    """GET each path (at most API_CONCURRENCY at a time): the JSON body, or None on 404."""
    gate = asyncio.Semaphore(API_CONCURRENCY)

    async def get(path: str) -> Any:
        async with gate:
            response = await client.get(path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    return await asyncio.gather(*(get(path) for path in paths))


async def reconcile_sessions(
    api_url: str, headers: dict[str, str], ledger: list[dict[str, Any]], station_ids: list[str]
) -> SessionCounts:
    """The ledger against GET /sessions/{id} and every charge point's session listing.

    ``headers``: what each request carries (the API token).
    """
    counts = SessionCounts(ledger=len(ledger))
    by_id = {session_id(entry): entry for entry in ledger}
    counts.doubled += len(ledger) - len(by_id)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as client:
        stored = await _get_all(client, [f"/api/v1/sessions/{tx}" for tx in by_id])
        listings = await _get_all(
            client, [f"/api/v1/charge-points/{cp}/sessions?limit=1000" for cp in station_ids]
        )
    for (tx, entry), session in zip(by_id.items(), stored, strict=True):
        if session is None:
            counts.lost += 1
            counts.note(f"lost {tx} of {entry['station']}")
        elif wrong := _differences(entry, session):
            counts.mismatched += 1
            counts.note(f"mismatched {tx}: {', '.join(wrong)}")
        else:
            counts.found += 1
    listed: set[int] = set()
    for station, sessions in zip(station_ids, listings, strict=True):
        _check_listing(station, sessions or [], by_id, counts)
        listed.update(s["transaction_id"] for s in sessions or [])
    counts.unlisted = len(by_id.keys() - listed)
    return counts


def _check_listing(
    station: str, sessions: list[dict[str, Any]], ledger: dict[int, Any], counts: SessionCounts
) -> None:
    counts.stored += len(sessions)
    ids = Counter(s["transaction_id"] for s in sessions)
    starts = Counter(
        (s["connector_id"], s["start_time"]) for s in sessions if s["start_time"] is not None
    )
    twice = sum(n - 1 for n in ids.values()) + sum(n - 1 for n in starts.values())
    if twice:
        counts.doubled += twice
        counts.note(f"doubled in the listing of {station}")
    for session in sessions:
        if session["stop_time"] is None:
            counts.open += 1
        elif session["transaction_id"] not in ledger:
            counts.extra += 1
            counts.note(f"extra {session['transaction_id']} of {station}")


# -- frames read back from Kafka


@dataclass(frozen=True)
class MeterFrame:
    charge_point_id: str
    transaction_id: int
    connector_id: int
    timestamp_ms: int
    values: int  # sampled values in the frame
    received_us: int


@dataclass(frozen=True)
class StopFrame:
    charge_point_id: str
    transaction_id: int
    received_us: int


def topic_messages(bootstrap: str, topic: str) -> Iterator[Message]:
    """Every message the topic holds now (each partition up to its end offset), then stop."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-readback-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p))[1] for p in partitions}
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in pending])
        while pending:
            for message in consumer.consume(READ_BATCH, timeout=1.0):
                if message.error() is not None:
                    continue
                if message.offset() >= ends[message.partition()] - 1:
                    pending.discard(message.partition())
                yield message
    finally:
        consumer.close()


def is_charge_point_call(headers: dict[str, bytes]) -> bool:
    """In either shape of the log: a CALL event with its answer in the header ``answer``
    (ADR 0010), or one whose answer is the next event (logs written before)."""
    return headers.get("dir") == b"in" and headers.get("mtype") == b"2"


def _calls(
    bootstrap: str, topic: str, keys: set[bytes]
) -> Iterator[tuple[str, dict[str, str], Any]]:
    """(charge point, headers, parsed frame) of each CALL the sampled charge points sent.

    A CALL sent again after a reconnect (same message id) is yielded once, the first time.
    """
    seen: set[tuple[bytes, bytes]] = set()
    for message in topic_messages(bootstrap, topic):
        if message.key() not in keys:
            continue
        raw = dict(message.headers() or ())
        identity = (message.key(), raw.get("mid", b""))
        if is_charge_point_call(raw) and identity not in seen:
            seen.add(identity)
            headers = {name: value.decode() for name, value in raw.items()}
            yield message.key().decode(), headers, orjson.loads(message.value())


def read_frames(
    bootstrap: str, topic: str, station_ids: list[str]
) -> tuple[list[MeterFrame], list[StopFrame]]:
    """The sampled charge points' MeterValues and StopTransaction CALLs with a transaction
    (2.0.1: TransactionEvents, Ended as the stop)."""
    meters: list[MeterFrame] = []
    stops: list[StopFrame] = []
    for cp, headers, frame in _calls(bootstrap, topic, {s.encode() for s in station_ids}):
        action, payload, received = frame[2], frame[3], int(headers["ts"])
        if action == "TransactionEvent":
            _transaction_event(cp, payload, received, meters, stops)
            continue
        transaction = payload.get("transactionId")
        if transaction is None:
            continue
        if action == "StopTransaction":
            stops.append(StopFrame(cp, transaction, received))
        elif action == "MeterValues":
            meters.extend(
                MeterFrame(
                    cp,
                    transaction,
                    payload["connectorId"],
                    millis(element["timestamp"]),
                    len(element["sampledValue"]),
                    received,
                )
                for element in payload["meterValue"]
            )
    return meters, stops


def _transaction_event(
    cp: str,
    payload: dict[str, Any],
    received: int,
    meters: list[MeterFrame],
    stops: list[StopFrame],
) -> None:
    """A simulated 2.0.1 station's TransactionEvent (each names its EVSE)."""
    transaction = transaction_id(cp, payload["transactionInfo"]["transactionId"])
    if payload["eventType"] == "Ended":
        stops.append(StopFrame(cp, transaction, received))
    meters.extend(
        MeterFrame(
            cp,
            transaction,
            payload["evse"]["id"],
            millis(element["timestamp"]),
            len(element["sampledValue"]),
            received,
        )
        for element in payload.get("meterValue", ())
    )


# -- rows in Cassandra


@dataclass
class StoreCheck:
    frames: int = 0  # sampled MeterValues (one meterValue each)
    rows_expected: int = 0  # sampled values those frames carried
    rows_found: int = 0  # meter value rows stored for them
    frames_missing: int = 0  # frames with no row stored
    rows_extra: int = 0  # rows of the sampled transactions that no frame explains
    meter_delay_ms: dict[str, Any] = field(default_factory=dict)  # receive -> WRITETIME
    stop_delay_ms: dict[str, Any] = field(default_factory=dict)  # Stop received -> session row

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _writetimes(
    cassandra_port: int, keyspace: str, meters: list[MeterFrame], stops: list[StopFrame]
) -> tuple[dict[tuple[int, int, int], list[int]], dict[int, int]]:
    """Meter values per (transaction, connector, ms): their WRITETIMEs (a sample group's
    row has one per value it holds); session WRITETIMEs."""
    cluster = Cluster(["127.0.0.1"], port=cassandra_port, protocol_version=5)
    try:
        session = cluster.connect()
        rows_of = session.prepare(
            f"SELECT transaction_id, connector_id, timestamp, data, WRITETIME(data) "
            f"FROM {keyspace}.meter_samples WHERE transaction_id = ?"
        )
        session_of = session.prepare(
            f"SELECT transaction_id, WRITETIME(data) FROM {keyspace}.sessions "
            "WHERE transaction_id = ?"
        )
        transactions = sorted({m.transaction_id for m in meters})
        rows: dict[tuple[int, int, int], list[int]] = {}
        for ok, result in execute_concurrent_with_args(
            session, rows_of, [(tx,) for tx in transactions], concurrency=32
        ):
            if not ok:
                raise result
            for tx, connector, moment, data, written in result:
                key = (tx, connector, (moment.replace(tzinfo=UTC) - EPOCH) // _MS)
                rows.setdefault(key, []).extend([written] * len(orjson.loads(data)))
        written_sessions: dict[int, int] = {}
        for ok, result in execute_concurrent_with_args(
            session, session_of, [(s.transaction_id,) for s in stops], concurrency=32
        ):
            if not ok:
                raise result
            written_sessions.update((tx, written) for tx, written in result)
        return rows, written_sessions
    finally:
        cluster.shutdown()


def check_store(
    cassandra_port: int,
    keyspace: str,
    meters: list[MeterFrame],
    stops: list[StopFrame],
    window_us: tuple[int, int],
) -> StoreCheck:
    """Sampled frames against their rows; delays only for frames received in the window."""
    rows, sessions = _writetimes(cassandra_port, keyspace, meters, stops)
    check = StoreCheck(frames=len(meters))
    start, end = window_us
    delays: list[float] = []
    explained = 0
    for meter in meters:
        check.rows_expected += meter.values
        found = rows.get((meter.transaction_id, meter.connector_id, meter.timestamp_ms))
        if not found:
            check.frames_missing += 1
            continue
        explained += len(found)
        if start <= meter.received_us < end:
            delays.append((max(found) - meter.received_us) / 1000)
    check.rows_found = explained
    check.rows_extra = sum(len(found) for found in rows.values()) - explained
    check.meter_delay_ms = quantiles(delays)
    check.stop_delay_ms = quantiles(
        [
            (sessions[s.transaction_id] - s.received_us) / 1000
            for s in stops
            if start <= s.received_us < end and s.transaction_id in sessions
        ]
    )
    return check
