"""Structured logging: one JSON object per line (or plain text for humans).

Use ``log.info("event_name", extra={"fields": {...}})``: the message is a
stable event name, the fields are its data.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class RepeatFilter(logging.Filter):
    """Lets a library's message through once per ``every`` seconds per logger and template.

    aiokafka logs a failed connection attempt every time it retries, without backoff:
    thousands of lines a second while Kafka is down. The next line let through carries
    how many were dropped (``repeated``). The project's own events are never dropped.
    """

    def __init__(self, every: float = 10.0) -> None:
        super().__init__()
        self.every = every
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}  # -> (let through, dropped)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("chargestream"):
            return True
        key = (record.name, record.msg)
        through, dropped = self._seen.get(key, (float("-inf"), 0))
        if record.created - through < self.every:
            self._seen[key] = (through, dropped + 1)
            return False
        if dropped:
            record.fields = {**getattr(record, "fields", {}), "repeated": dropped}
        self._seen[key] = (record.created, 0)
        return True


def logging_config(level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of every process (Faust's workers take it too)."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"chargestream": {"()": formatter}},
        "filters": {"repeats": {"()": RepeatFilter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "chargestream",
                "filters": ["repeats"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["default"]},
        "loggers": {name: {"level": "WARNING"} for name in ("websockets", "uvicorn.access")},
    }


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    logging.config.dictConfig(logging_config(level, fmt))
