"""Structured logs: the formatter keeps an event's fields; library repeats are thinned."""

import logging

import orjson

from chargestream.app.logs import JsonFormatter, RepeatFilter


def record(name: str, message: str, created: float, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)
    made.created = created
    if fields:
        made.fields = fields
    return made


def test_a_library_message_repeated_within_the_window_is_dropped_and_counted() -> None:
    repeats = RepeatFilter(every=10)
    text = "Unable connect to node with id %s"

    passed = [repeats.filter(record("aiokafka", text, at)) for at in (0, 1, 2, 9.9, 10, 10.5)]
    assert passed == [True, False, False, False, True, False]
    after = record("aiokafka", text, 25)
    assert repeats.filter(after) and after.fields == {"repeated": 1}
    assert repeats.filter(record("aiokafka", "another message", 25.1))


def test_the_projects_own_events_are_never_dropped() -> None:
    repeats = RepeatFilter(every=10)
    assert all(
        repeats.filter(record("chargestream.worker", "store_write_failed", 0.1 * n))
        for n in range(20)
    )


def test_json_lines_carry_the_event_and_its_fields() -> None:
    line = JsonFormatter().format(record("chargestream.worker", "consumer_stalled", 0, seconds=60))
    entry = orjson.loads(line)
    assert entry["event"] == "consumer_stalled" and entry["seconds"] == 60
    assert entry["level"] == "error" and entry["logger"] == "chargestream.worker"
