"""The worker's Faust app: Faust's own, but its consumer asks Kafka for records often.

Faust builds its aiokafka consumer with ``fetch_max_wait_ms=1500`` and offers no
setting for it. Measured on the project's Kafka 3.9 at ~850 frames/s, a fetch came
back when that time was up, not when records arrived: the worker got ~1.6 s of frames
at once, and a frame's rows reached Cassandra 1.2 s after the gateway took it (p50).
A fetch that waits at most ``FETCH_MAX_WAIT_MS`` bounds that delay; the broker still
answers at once when it holds ``FETCH_MIN_BYTES`` for the worker, so a backlog is read
in large fetches (ADR 0014).
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TransportT

FETCH_MAX_WAIT_MS = 100
FETCH_MIN_BYTES = 32 * 1024


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:  # aiokafka: untyped
        consumer = super()._create_worker_consumer(transport)
        # read when the consumer starts (aiokafka builds its Fetcher in ``start``)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        consumer._fetch_min_bytes = FETCH_MIN_BYTES
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class WorkerApp(faust.App):
    """A ``faust.App`` for the ``kafka://`` broker whose consumer fetches as above."""

    def _new_transport(self) -> TransportT:
        return _Transport(self.conf.broker_consumer, self)
