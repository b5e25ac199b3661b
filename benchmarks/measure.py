"""What the stack does while it runs: CPU and memory per component from /proc, the
Faust group's lag from Kafka, and the counters the gateways and workers publish.
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

TICK = os.sysconf("SC_CLK_TCK")
KAFKA_TIMEOUT = 10.0  # seconds a Kafka request may take
RETRY_FOR = 60.0  # seconds a lag sample keeps trying while Kafka does not answer


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state is [0], ppid [1], utime [11]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (all threads), None if it is gone."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, 0 if it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def children_of(parent: int) -> list[int]:
    """The live processes whose parent is ``parent``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry))
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, not idle or iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICK


@dataclass(frozen=True)
class Sample:
    at: float  # monotonic seconds
    span: float  # seconds since the previous sample
    cpu: dict[str, float]  # component -> CPU seconds used during ``span``
    rss: dict[str, int]  # component -> resident bytes at ``at``
    machine: float  # CPU seconds the whole machine was busy during ``span``


class ProcSampler:
    """CPU used and memory held per component; a component is a function giving its pids.

    A process first seen in a sample counts from there on (its earlier CPU time is not
    attributed), and one that exits loses its last interval: both only matter while
    processes start and stop, outside the measured windows.
    """

    def __init__(self, components: dict[str, Callable[[], Iterable[int]]]) -> None:
        self.components = components
        self.samples: list[Sample] = []
        self._cpu: dict[int, float] = {}
        self._at = time.monotonic()
        self._machine = machine_busy_seconds()

    def sample(self) -> Sample:
        now, machine = time.monotonic(), machine_busy_seconds()
        cpu: dict[str, float] = {}
        rss: dict[str, int] = {}
        seen: dict[int, float] = {}
        for name, pids in self.components.items():
            used, resident = 0.0, 0
            for pid in pids():
                total = cpu_seconds(pid)
                if total is None or pid in seen:
                    continue
                seen[pid] = total
                used += total - self._cpu.get(pid, total)
                resident += rss_bytes(pid)
            cpu[name], rss[name] = used, resident
        sample = Sample(now, now - self._at, cpu, rss, machine - self._machine)
        self._cpu, self._at, self._machine = seen, now, machine
        self.samples.append(sample)
        return sample

    def window(self, start: float, end: float) -> dict[str, dict[str, float]]:
        """Per component, average CPU (% of one core) and peak RSS (MB) in [start, end]."""
        inside = [s for s in self.samples if start < s.at <= end]
        span = sum(s.span for s in inside) or 1.0
        summary = {
            name: {
                "cpu_pct": round(100 * sum(s.cpu[name] for s in inside) / span, 1),
                "rss_mb": round(max((s.rss[name] for s in inside), default=0) / 2**20),
            }
            for name in self.components
        }
        busy = 100 * sum(s.machine for s in inside) / span
        ours = sum(c["cpu_pct"] for c in summary.values())
        summary["machine"] = {"cpu_pct": round(busy, 1), "rss_mb": 0}
        summary["other"] = {"cpu_pct": round(max(busy - ours, 0.0), 1), "rss_mb": 0}
        return summary


class LagProbe:
    """End offsets of the frames topic and the worker group's committed offsets.

    confluent-kafka's AdminClient does not recover from a Kafka restart (its requests time
    out, every time), so a failed sample builds a new client and tries again, for up to
    ``retry_for`` seconds; then it raises, and the next sample starts with the new client.
    """

    def __init__(
        self, bootstrap: str, topic: str, group: str, retry_for: float = RETRY_FOR
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.retry_for = retry_for
        self.admin = self._client()
        partitions = self.admin.list_topics(topic, timeout=KAFKA_TIMEOUT).topics[topic].partitions
        self.partitions = [TopicPartition(topic, p) for p in sorted(partitions)]

    def _client(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def end_offsets(self) -> dict[int, int]:
        futures = self.admin.list_offsets(
            {tp: OffsetSpec.latest() for tp in self.partitions}, request_timeout=KAFKA_TIMEOUT
        )
        return {tp.partition: f.result().offset for tp, f in futures.items()}

    def committed(self) -> dict[int, int]:
        """Committed offsets; a partition without a commit yet counts as 0 (a new topic)."""
        request = ConsumerGroupTopicPartitions(self.group, self.partitions)
        futures = self.admin.list_consumer_group_offsets([request], request_timeout=KAFKA_TIMEOUT)
        found = futures[self.group].result().topic_partitions
        return {tp.partition: max(tp.offset, 0) for tp in found}

    def sample(self) -> tuple[int, int]:
        """(events in the topic, events the group has committed)."""
        deadline = time.monotonic() + self.retry_for
        while True:
            try:
                return sum(self.end_offsets().values()), sum(self.committed().values())
            except KafkaException:
                self.admin = self._client()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(1.0)


def fetch(url: str, timeout: float = 5.0) -> bytes | None:
    """The body of a GET, None when the process does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError:
        return None


def counter(metrics: bytes, series: str) -> float:
    """A series' value in Prometheus text, e.g. 'chargestream_frames_total{direction="in"}'."""
    prefix = series.encode() + b" "
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return float(line.split()[1])
    return 0.0


def frames_in(gateway_health_urls: list[str]) -> float | None:
    """Frames the gateways have received from charge points, summed; None if one is silent."""
    total = 0.0
    for url in gateway_health_urls:
        body = fetch(url.replace("/healthz", "/metrics"))
        if body is None:
            return None
        total += counter(body, 'chargestream_frames_total{direction="in"}')
    return total


def processed(worker_health_urls: list[str]) -> int | None:
    """Events the workers have derived, summed; None if one does not answer."""
    total = 0
    for url in worker_health_urls:
        body = fetch(url)
        if body is None:
            return None
        total += orjson.loads(body)["processed"]
    return total
