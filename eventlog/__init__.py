"""The event log: every frame event, durable before the gateway replies.

Two implementations of one small interface: the embedded SQLite log and
the Kafka topic (stack mode).
"""

from chargestream.eventlog.base import EventLog

__all__ = ["EventLog"]
