"""StallWatch: when a worker's lag stops going down, and what it does about it."""

from chargestream.streams.watchdog import Remedy, Stall, StallWatch


def test_a_partition_with_input_and_no_progress_stalls_after_the_limit() -> None:
    watch = StallWatch(after=60)
    committed, ends = {0: 10, 1: 5}, {0: 10, 1: 9}  # partition 1 has 4 events waiting

    assert watch.observe(0, committed, ends, writing=False) is None
    assert watch.observe(30, committed, ends, writing=False) is None
    assert watch.observe(59, committed, ends, writing=False) is None
    assert watch.observe(60, committed, ends, writing=False) == Stall(Remedy.RESEEK, [1])


def test_a_second_stall_without_progress_after_the_seek_exits() -> None:
    watch = StallWatch(after=60)
    committed, ends = {0: 5}, {0: 9}

    watch.observe(0, committed, ends, writing=False)
    assert watch.observe(60, committed, ends, writing=False) == Stall(Remedy.RESEEK, [0])
    # the seek gets its own ``after`` seconds
    assert watch.observe(70, committed, ends, writing=False) is None
    assert watch.observe(119, committed, ends, writing=False) is None
    assert watch.observe(120, committed, ends, writing=False) == Stall(Remedy.EXIT, [0])


def test_progress_after_a_seek_makes_the_next_stall_a_seek_again() -> None:
    watch = StallWatch(after=60)
    ends = {0: 100}

    watch.observe(0, {0: 5}, ends, writing=False)
    assert watch.observe(60, {0: 5}, ends, writing=False) == Stall(Remedy.RESEEK, [0])
    assert watch.observe(70, {0: 45}, ends, writing=False) is None  # the seek worked
    assert watch.observe(129, {0: 45}, ends, writing=False) is None
    assert watch.observe(130, {0: 45}, ends, writing=False) == Stall(Remedy.RESEEK, [0])


def test_a_committed_offset_that_moves_restarts_its_partitions_clock_only() -> None:
    watch = StallWatch(after=60)
    ends = {0: 100, 1: 100}

    watch.observe(0, {0: 10, 1: 10}, ends, writing=False)
    assert watch.observe(50, {0: 20, 1: 10}, ends, writing=False) is None
    # partition 0 keeps moving; partition 1 does not, whatever the others do
    assert watch.observe(60, {0: 30, 1: 10}, ends, writing=False) == Stall(Remedy.RESEEK, [1])
    assert watch.observe(119, {0: 40, 1: 10}, ends, writing=False) is None
    assert watch.observe(120, {0: 50, 1: 10}, ends, writing=False) == Stall(Remedy.EXIT, [1])


def test_waiting_on_the_store_or_having_no_input_is_not_a_stall() -> None:
    watch = StallWatch(after=60)

    for now in range(0, 300, 10):  # a store outage: consumption pauses on purpose
        assert watch.observe(now, {0: 10}, {0: 50}, writing=True) is None
    for now in range(300, 600, 10):  # caught up: nothing to fetch
        assert watch.observe(now, {0: 50}, {0: 50}, writing=False) is None
