"""The stack supervisor restarts a process that exits, and gives up on one that keeps exiting."""

import sys

import pytest

from chargestream.app.supervisor import MAX_RESTARTS, Child


def exiting_child(code: int) -> Child:
    return Child("worker-1", [sys.executable, "-c", f"raise SystemExit({code})"], env={})


def test_an_exited_process_is_started_again() -> None:
    child = exiting_child(3)
    child.start()
    first = child.process
    assert first is not None and first.wait(30) == 3

    child.restart_if_exited()

    assert child.process is not first
    assert child.process is not None and child.process.wait(30) == 3


def test_a_running_process_is_left_alone() -> None:
    child = Child("api", [sys.executable, "-c", "import time; time.sleep(60)"], env={})
    child.start()
    running = child.process
    try:
        child.restart_if_exited()
        assert child.process is running
    finally:
        child.stop()


def test_a_process_that_keeps_exiting_stops_the_stack() -> None:
    child = exiting_child(1)
    child.start()
    for _ in range(MAX_RESTARTS):
        assert child.process is not None
        child.process.wait(30)
        child.restart_if_exited()
    assert child.process is not None
    child.process.wait(30)

    with pytest.raises(RuntimeError, match="worker-1 exited with 1, 5 restarts"):
        child.restart_if_exited()
