"""Records: every type kept by the store declares its natural key once."""

from __future__ import annotations

import dataclasses

import pytest

from chargestream.domain.records import (
    Alert,
    AlertRule,
    ChargePointState,
    CommandRecord,
    IdTag,
    MeterValue,
    Registration,
    Session,
    StatusInterval,
)

STORED = [
    Registration,
    IdTag,
    AlertRule,
    CommandRecord,
    ChargePointState,
    StatusInterval,
    Session,
    MeterValue,
    Alert,
]


@pytest.mark.parametrize("record", STORED, ids=lambda r: r.__name__)
def test_the_natural_key_names_distinct_fields_of_the_record(record: type) -> None:
    fields = {field.name for field in dataclasses.fields(record)}
    key = record.KEY  # type: ignore[attr-defined]
    assert key and len(set(key)) == len(key)
    assert set(key) <= fields
    assert "KEY" not in fields  # a class attribute, not a field of each record
