"""StallWatch: when a worker with input has stopped fetching it."""

from chargestream.streams.watchdog import StallWatch


def test_a_partition_with_input_and_no_progress_stalls_after_the_limit() -> None:
    watch = StallWatch(after=60)
    positions, ends = {0: 10, 1: 5}, {0: 10, 1: 9}  # partition 1 has 4 events waiting

    assert watch.observe(0, positions, ends, processed=7, writing=False) == []
    assert watch.observe(30, positions, ends, processed=7, writing=False) == []
    assert watch.observe(59, positions, ends, processed=7, writing=False) == []
    assert watch.observe(60, positions, ends, processed=7, writing=False) == [1]


def test_progress_of_the_position_or_of_processing_restarts_the_clock() -> None:
    watch = StallWatch(after=60)
    ends = {0: 100}

    watch.observe(0, {0: 10}, ends, processed=1, writing=False)
    assert watch.observe(50, {0: 20}, ends, processed=1, writing=False) == []  # fetched more
    assert watch.observe(100, {0: 20}, ends, processed=1, writing=False) == []
    assert watch.observe(105, {0: 20}, ends, processed=2, writing=False) == []  # processed
    assert watch.observe(160, {0: 20}, ends, processed=2, writing=False) == []
    assert watch.observe(165, {0: 20}, ends, processed=2, writing=False) == [0]


def test_waiting_on_the_store_or_having_no_input_is_not_a_stall() -> None:
    watch = StallWatch(after=60)

    for now in range(0, 300, 10):  # a store outage: consumption pauses on purpose
        assert watch.observe(now, {0: 10}, {0: 50}, processed=3, writing=True) == []
    for now in range(300, 600, 10):  # caught up: nothing to fetch
        assert watch.observe(now, {0: 50}, {0: 50}, processed=3, writing=False) == []
