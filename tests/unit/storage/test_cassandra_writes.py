"""What the Cassandra store decides before it writes: batches, listing keys, sample rows."""

from __future__ import annotations

import dataclasses

from chargestream.domain.records import MeterValue
from chargestream.storage.cassandra_schema import (
    decode_samples,
    encode_samples,
    meter_order,
    sample_group,
    to_ms,
)
from chargestream.storage.cassandra_writes import ListedKeys, batches
from tests.storage_contract import at, full_meter_value

# ------------------------------------------------------------------ batches


def test_rows_are_batched_by_group_in_order_of_first_appearance() -> None:
    rows = [("a", 1, 1), ("b", 1, 2), ("a", 1, 3), ("c", 1, 4), ("b", 1, 5)]
    assert batches(rows, max_rows=10, max_bytes=100) == [[1, 3], [2, 5], [4]]


def test_a_batch_holds_at_most_max_rows() -> None:
    rows = [("a", 1, i) for i in range(5)]
    assert batches(rows, max_rows=2, max_bytes=100) == [[0, 1], [2, 3], [4]]


def test_a_batch_holds_at_most_max_bytes_and_a_larger_row_goes_alone() -> None:
    rows = [("a", 40, 0), ("a", 40, 1), ("a", 40, 2), ("a", 500, 3), ("a", 10, 4)]
    assert batches(rows, max_rows=10, max_bytes=100) == [[0, 1], [2], [3], [4]]


def test_no_rows_no_batches() -> None:
    assert batches([], max_rows=10, max_bytes=100) == []


# ------------------------------------------------------------- listing keys


def test_a_key_written_is_unchanged_until_another_is_written() -> None:
    keys = ListedKeys(10)
    assert not keys.unchanged(1, ("CP-1", at(0)))
    keys.written([(1, ("CP-1", at(0)))])
    assert keys.unchanged(1, ("CP-1", at(0)))
    assert not keys.unchanged(1, ("CP-1", at(1)))
    keys.written([(1, ("CP-1", at(1)))])
    assert keys.unchanged(1, ("CP-1", at(1)))
    assert not keys.unchanged(1, ("CP-1", at(0)))


def test_the_least_recently_written_ids_are_forgotten_first() -> None:
    keys = ListedKeys(2)
    keys.written([(1, "k1"), (2, "k2")])
    keys.written([(1, "k1")])  # written again: now the most recent
    keys.written([(3, "k3")])
    assert keys.unchanged(1, "k1") and keys.unchanged(3, "k3")
    assert not keys.unchanged(2, "k2")


def test_forget_clears_every_key() -> None:
    keys = ListedKeys(10)
    keys.written([(1, "k1")])
    keys.forget()
    assert not keys.unchanged(1, "k1")


# ---------------------------------------------------------------- sample rows


def test_a_sample_group_round_trips_in_key_order() -> None:
    voltage = full_meter_value(at(1), "Voltage")
    current = dataclasses.replace(full_meter_value(at(1), "Current.Import"), phase=None)
    energy = MeterValue("CP-1", 1, at(1), "Energy.Active.Import.Register", 1234.5, "Wh", 7)
    sampled, data = encode_samples([voltage, current, energy])
    tx, time, cp, connector = sample_group(voltage)
    decoded = decode_samples(tx, to_ms(time), cp, connector, data)
    assert decoded == sorted([voltage, current, energy], key=meter_order)
    assert sampled == encode_samples([energy, voltage, current])[0]


def test_absent_trailing_parts_are_left_out_of_the_data() -> None:
    energy = MeterValue("CP-1", 1, at(1), "Energy.Active.Import.Register", 1234.5, "Wh", 7)
    assert encode_samples([energy])[1] == '[["Energy.Active.Import.Register",1234.5,"Wh"]]'
    with_context = dataclasses.replace(energy, context="Sample.Clock")
    assert encode_samples([with_context])[1].endswith('"Wh",null,null,"Sample.Clock"]]')


def test_groups_of_other_values_at_the_same_time_get_other_rows() -> None:
    periodic = full_meter_value(at(1), "Voltage")
    clock = dataclasses.replace(periodic, context="Sample.Clock")
    power = full_meter_value(at(1), "Power.Active.Import")
    assert sample_group(periodic) == sample_group(clock) == sample_group(power)
    digests = {encode_samples(group)[0] for group in ([periodic], [clock], [power, periodic])}
    assert len(digests) == 3
