"""The derivation process's counters reach the parent's: each report adds what the child
counted since the one before; what does not decode is dropped."""

from __future__ import annotations

import logging

import orjson
import pytest
from prometheus_client import CollectorRegistry, Counter

from chargestream.app.derivation_process import ChildCounters, counter_report


def counters() -> tuple[Counter, Counter]:
    registry = CollectorRegistry()
    return (
        Counter("t_skipped_total", "skipped", registry=registry),
        Counter("t_commands_total", "commands", ["outcome"], registry=registry),
    )


def value(counter: Counter, **labels: str) -> float:
    return float((counter.labels(**labels) if labels else counter)._value.get())


def test_each_report_adds_what_the_child_counted_since_the_last() -> None:
    child_skipped, child_commands = counters()
    parent_skipped, parent_commands = counters()
    child = {"t_skipped": child_skipped, "t_commands": child_commands}
    merged = ChildCounters({"t_skipped": parent_skipped, "t_commands": parent_commands})
    parent_commands.labels(outcome="answered").inc(10)  # the parent's own commands

    child_skipped.inc(2)
    child_commands.labels(outcome="answered").inc(3)
    merged.merge(counter_report(child))
    merged.merge(counter_report(child))  # nothing new: nothing added
    child_commands.labels(outcome="answered").inc(1)
    child_commands.labels(outcome="timeout").inc(1)
    merged.merge(counter_report(child))

    assert value(parent_skipped) == 2
    assert value(parent_commands, outcome="answered") == 14
    assert value(parent_commands, outcome="timeout") == 1

    restarted = ChildCounters({"t_skipped": parent_skipped})  # a new child counts from 0
    fresh, _ = counters()
    fresh.inc(1)
    restarted.merge(counter_report({"t_skipped": fresh}))
    assert value(parent_skipped) == 3


@pytest.mark.parametrize(
    "report",
    [
        b"not json",
        b'{"t_skipped": 5}',
        orjson.dumps([["t_commands", {"nope": "x"}, 5]]),  # labels it does not have
    ],
)
def test_a_report_that_does_not_decode_is_dropped_and_logged(
    report: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    skipped, commands = counters()
    merged = ChildCounters({"t_skipped": skipped, "t_commands": commands})
    with caplog.at_level(logging.WARNING):
        merged.merge(report)
    assert value(skipped) == 0
    assert "derivation_counters_malformed" in caplog.messages


def test_entries_of_other_counters_or_shapes_are_ignored() -> None:
    skipped, _ = counters()
    merged = ChildCounters({"t_skipped": skipped})
    merged.merge(orjson.dumps([["other", {}, 9], ["t_skipped", {}, "9"], ["t_skipped"], 7]))
    assert value(skipped) == 0
