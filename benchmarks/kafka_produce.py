"""CPU per frame of producing frame events to Kafka, by partitions and ``linger.ms``.

One producer configured as the gateway's (acks=all, idempotent, murmur2, lz4) paces
``--rate`` frames a second of ~900 bytes with the frame event's nine headers, keyed over
5,000 charge points, into a fresh topic per partition count, polled from a thread as the
gateway does. Measured per frame over ``--seconds``: this process's CPU (minus the cost
of the pacing loop alone, measured first) and the broker's (``/proc/<pid>/stat`` of the
process listening on the Kafka port). The numbers behind ADR 0012. Run under ``flock
/tmp/stack.lock`` on a shared machine::

    python -m benchmarks.kafka_produce --bootstrap 127.0.0.1:19092
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from chargestream.domain.frames import Direction, EventKind, FrameEvent, MessageType
from chargestream.eventlog.kafka_clients import producer_config

TICK = os.sysconf("SC_CLK_TCK")
FRAME = b"x" * 900


def _headers() -> list[tuple[str, bytes]]:
    event = FrameEvent(
        "CP-00001", EventKind.FRAME, "", "gw-1", "c0ffee12", 1234, 1796616713311000,
        Direction.IN, MessageType.CALL, "a1b2c3d4-0000", "MeterValues",
    )  # fmt: skip
    return event.headers()


def _listener_cpu(port: int) -> Callable[[], float]:
    """CPU seconds so far of the process listening on ``port`` (the broker)."""
    wanted = f":{port:04X} "
    inodes = {
        line.split()[9]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for line in Path(table).read_text().splitlines()[1:]
        if wanted in line and line.split()[3] == "0A"  # LISTEN
    }
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            stat = Path(f"/proc/{pid}/stat")
            return lambda: sum(map(int, stat.read_text().rsplit(")", 1)[1].split()[11:13])) / TICK
    raise SystemExit(f"no process listens on port {port}")


def _paced(rate: float, seconds: float, send: Callable[[int], None]) -> float:
    """Call ``send`` ``rate`` times a second for ``seconds``; this process's CPU seconds."""
    count, gap = int(rate * seconds), 1.0 / rate
    started, due = time.process_time(), time.perf_counter()
    for n in range(count):
        send(n)
        due += gap
        if (pause := due - time.perf_counter()) > 0:
            time.sleep(pause)
    return time.process_time() - started


def measure(bootstrap: str, partitions: int, linger_ms: int, rate: float, seconds: float) -> str:
    topic = f"bench-produce-{partitions}-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=partitions)]).values():
        future.result(30)
    config = producer_config({"bootstrap.servers": bootstrap}, **{"linger.ms": linger_ms})
    producer, headers, stop = Producer(config), _headers(), threading.Event()

    def poll() -> None:  # delivery reports, as the gateway's polling thread serves them
        while not stop.is_set():
            producer.poll(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    broker = _listener_cpu(int(bootstrap.rsplit(":", 1)[1]))

    def send(n: int) -> None:
        producer.produce(topic, FRAME, b"CP-%05d" % (n % 5000), headers=headers)

    _paced(rate, 2.0, send)  # warm: connections, producer id, partition leaders
    producer.flush(30)
    idle = _paced(rate, seconds / 4, lambda _: None) * 4  # the pacing loop's own cost
    broker_before = broker()
    client = _paced(rate, seconds, send) - idle
    producer.flush(30)
    server = broker() - broker_before
    stop.set()
    poller.join()
    admin.delete_topics([topic])
    per_frame = 1e6 / (rate * seconds)
    return f"| {partitions} | {linger_ms} | {client * per_frame:.0f} | {server * per_frame:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--partitions", default="12,6,3", help="comma-separated (12,6,3)")
    parser.add_argument("--linger-ms", default="5,10,20", help="comma-separated (5,10,20)")
    parser.add_argument("--rate", type=float, default=1000.0, help="frames a second (1000)")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured per cell (4)")
    args = parser.parse_args()
    print("| partitions | linger.ms | producer µs/frame | broker µs/frame |")
    print("|---:|---:|---:|---:|")
    for partitions in map(int, args.partitions.split(",")):
        for linger in map(int, args.linger_ms.split(",")):
            print(measure(args.bootstrap, partitions, linger, args.rate, args.seconds), flush=True)


if __name__ == "__main__":
    main()
