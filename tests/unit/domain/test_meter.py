"""Meter units: values in their unprefixed unit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargestream.domain.meter import base_value
from chargestream.domain.records import MeterValue


def sample(value: float, unit: str) -> MeterValue:
    return MeterValue(
        "CP-1", 1, datetime(2024, 5, 1, tzinfo=UTC), "Power.Active.Import", value, unit
    )


@pytest.mark.parametrize(
    ("value", "unit", "base"),
    [
        (7.25, "kW", (7250.0, "W")),
        (12.5, "kWh", (12500.0, "Wh")),
        (2.0, "kvarh", (2000.0, "varh")),
        (1.5, "kvar", (1500.0, "var")),
        (3.0, "kVA", (3000.0, "VA")),
        (230.0, "V", (230.0, "V")),
        (7400.0, "W", (7400.0, "W")),
        (21.5, "Celsius", (21.5, "Celsius")),
    ],
)
def test_prefixed_units_are_scaled_to_their_base(
    value: float, unit: str, base: tuple[float, str]
) -> None:
    assert base_value(sample(value, unit)) == base
