"""StallWatch: when a worker's lag stops going down, and what it does about it."""

from chargestream.streams.watchdog import Remedy, Stall, StallWatch


def test_a_partition_with_input_and_no_progress_stalls_after_the_limit() -> None:
    watch = StallWatch(after=60)
    committed, ends = {0: 10, 1: 5}, {0: 10, 1: 9}  # partition 1 has 4 events waiting

    assert watch.observe(0, committed, ends, processed=7, writing=False) is None
    assert watch.observe(30, committed, ends, processed=7, writing=False) is None
    assert watch.observe(59, committed, ends, processed=7, writing=False) is None
    assert watch.observe(60, committed, ends, processed=7, writing=False) == Stall(
        Remedy.RESEEK, [1]
    )


def test_a_second_stall_without_progress_after_the_seek_exits() -> None:
    watch = StallWatch(after=60)
    committed, ends = {0: 5}, {0: 9}

    watch.observe(0, committed, ends, processed=0, writing=False)
    assert watch.observe(60, committed, ends, processed=0, writing=False) == Stall(
        Remedy.RESEEK, [0]
    )
    # the seek gets its own ``after`` seconds
    assert watch.observe(70, committed, ends, processed=0, writing=False) is None
    assert watch.observe(129, committed, ends, processed=0, writing=False) is None
    assert watch.observe(130, committed, ends, processed=0, writing=False) == Stall(
        Remedy.EXIT, [0]
    )


def test_progress_after_a_seek_makes_the_next_stall_a_seek_again() -> None:
    watch = StallWatch(after=60)
    ends = {0: 100}

    watch.observe(0, {0: 5}, ends, processed=0, writing=False)
    assert watch.observe(60, {0: 5}, ends, processed=0, writing=False) == Stall(Remedy.RESEEK, [0])
    watch.observe(70, {0: 5}, ends, processed=40, writing=False)  # the seek worked
    assert watch.observe(130, {0: 45}, ends, processed=40, writing=False) is None
    assert watch.observe(190, {0: 45}, ends, processed=40, writing=False) == Stall(
        Remedy.RESEEK, [0]
    )


def test_progress_of_the_committed_offset_or_of_processing_restarts_the_clock() -> None:
    watch = StallWatch(after=60)
    ends = {0: 100}

    watch.observe(0, {0: 10}, ends, processed=1, writing=False)
    assert watch.observe(50, {0: 20}, ends, processed=1, writing=False) is None  # committed
    assert watch.observe(100, {0: 20}, ends, processed=1, writing=False) is None
    assert watch.observe(105, {0: 20}, ends, processed=2, writing=False) is None  # processed
    assert watch.observe(160, {0: 20}, ends, processed=2, writing=False) is None
    assert watch.observe(165, {0: 20}, ends, processed=2, writing=False) == Stall(
        Remedy.RESEEK, [0]
    )


def test_waiting_on_the_store_or_having_no_input_is_not_a_stall() -> None:
    watch = StallWatch(after=60)

    for now in range(0, 300, 10):  # a store outage: consumption pauses on purpose
        assert watch.observe(now, {0: 10}, {0: 50}, processed=3, writing=True) is None
    for now in range(300, 600, 10):  # caught up: nothing to fetch
        assert watch.observe(now, {0: 50}, {0: 50}, processed=3, writing=False) is None
