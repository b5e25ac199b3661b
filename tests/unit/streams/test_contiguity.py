"""admit: a partition's events are applied in offset order, with none missing."""

from chargestream.streams.contiguity import Admission, admit


def test_events_that_follow_on_are_admitted_and_move_the_next_offset() -> None:
    events = [(0, 5), (1, 0), (0, 6), (1, 1)]

    assert admit(events, {0: 5, 1: 0}) == Admission([0, 1, 2, 3], {0: 7, 1: 2}, {})


def test_a_gap_leaves_out_its_partitions_later_events_and_names_where_to_fetch_from() -> None:
    # partition 0's offsets 5..7 never arrived (cleared from the stream's queue)
    events = [(0, 8), (1, 3), (0, 9), (1, 4)]

    admission = admit(events, {0: 5, 1: 3})

    assert admission == Admission([1, 3], {0: 5, 1: 5}, {0: 5})


def test_a_gap_after_admitted_events_keeps_what_came_before_it() -> None:
    events = [(0, 5), (0, 6), (0, 9), (0, 7)]  # 7 after 9: still after the gap

    assert admit(events, {0: 5}) == Admission([0, 1], {0: 7}, {0: 7})


def test_events_applied_already_are_left_out_without_a_gap() -> None:
    # fetched again after a seek: 3 and 4 were applied before
    events = [(0, 3), (0, 4), (0, 5)]

    assert admit(events, {0: 5}) == Admission([2], {0: 6}, {})


def test_the_given_offsets_are_not_changed() -> None:
    next_offsets = {0: 1}

    admit([(0, 1), (0, 2)], next_offsets)

    assert next_offsets == {0: 1}
