"""Sampled values: normalization to MeterValue records and the figures sessions need."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from chargestream.domain.meter import base_value
from chargestream.domain.records import MeterValue
from chargestream.streams.parse import get_dict, get_int, get_list, get_str, parse_time

ENERGY_REGISTER = "Energy.Active.Import.Register"
ACTIVE_POWER = "Power.Active.Import"
SOC = "SoC"
MAX_MULTIPLIER = 9  # 2.0.1 unitOfMeasure.multiplier: powers of ten a meter plausibly uses

# Spec defaults per measurand family (OCPP 1.6 §7.31 says Wh whatever the measurand, which
# would mislabel every non-energy value).
_DEFAULT_UNITS = {
    "Energy.Active": "Wh",
    "Energy.Reactive": "varh",
    "Power.Active": "W",
    "Power.Offered": "W",
    "Power.Reactive": "var",
    "Power.Factor": "",
    "Current": "A",
    "Voltage": "V",
    "Frequency": "Hertz",
    "Temperature": "Celsius",
    "SoC": "Percent",
    "RPM": "RPM",
}
_SPELLING = {"Celcius": "Celsius"}  # the 1.6 schema's own misspelling
_LINES = frozenset({"L1", "L2", "L3", "L1-N", "L2-N", "L3-N"})


@lru_cache(maxsize=256)
def default_unit(measurand: str) -> str:
    for prefix, unit in _DEFAULT_UNITS.items():
        if measurand.startswith(prefix):
            return unit
    return "Wh"


def sampled_values(
    charge_point_id: str,
    connector_id: int,
    transaction_id: int | None,
    meter_value: Any,
    fallback: datetime,
) -> list[MeterValue]:
    """The numeric sampled values of one ``meterValue`` element, normalized.

    Reads both versions: 1.6's ``unit`` and 2.0.1's ``unitOfMeasure`` (unit and a power of
    ten ``multiplier``, applied to the value).
    """
    if not isinstance(meter_value, dict):
        return []
    timestamp = parse_time(meter_value.get("timestamp"), fallback)
    records = []
    for sampled in get_list(meter_value, "sampledValue"):
        if not isinstance(sampled, dict) or (number := _number(sampled.get("value"))) is None:
            continue
        measurand = get_str(sampled, "measurand") or ENERGY_REGISTER
        unit_of_measure = get_dict(sampled, "unitOfMeasure")
        unit = (
            get_str(sampled, "unit") or get_str(unit_of_measure, "unit") or default_unit(measurand)
        )
        records.append(
            MeterValue(
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                timestamp=timestamp,
                measurand=measurand,
                value=number * _scale(unit_of_measure),
                unit=_SPELLING.get(unit, unit),
                transaction_id=transaction_id,
                phase=get_str(sampled, "phase"),
                location=get_str(sampled, "location") or "Outlet",
                context=get_str(sampled, "context") or "Sample.Periodic",
            )
        )
    return records


def active_power_w(values: Iterable[MeterValue]) -> float | None:
    """Total active import power of one sample in W.

    Per location, a total (no phase) wins over per-phase values, which are summed; with several
    locations the largest total counts.
    """
    totals: dict[str, float] = {}
    phase_sums: dict[str, float] = {}
    for value in values:
        if value.measurand != ACTIVE_POWER:
            continue
        watts, unit = base_value(value)
        location = value.location or ""
        if unit != "W":
            continue
        if value.phase is None:
            totals[location] = max(watts, totals.get(location, watts))
        elif value.phase in _LINES:
            phase_sums[location] = phase_sums.get(location, 0.0) + watts
    return max({**phase_sums, **totals}.values(), default=None)


def energy_wh(values: Iterable[MeterValue]) -> float | None:
    """The energy import register of one sample in Wh (the largest total, no phase)."""
    readings = [
        base_value(value)
        for value in values
        if value.measurand == ENERGY_REGISTER and value.phase is None
    ]
    return max((number for number, unit in readings if unit == "Wh"), default=None)


def states_of_charge(values: Iterable[MeterValue]) -> list[float]:
    return [value.value for value in values if value.measurand == SOC]


def _scale(unit_of_measure: dict[str, Any]) -> float:
    """10 ** the 2.0.1 ``multiplier`` (an integer; beyond MAX_MULTIPLIER it is ignored)."""
    multiplier = get_int(unit_of_measure, "multiplier")
    if multiplier is None or abs(multiplier) > MAX_MULTIPLIER:
        return 1.0
    return 10.0**multiplier


def _number(raw: Any) -> float | None:
    """The spec sends values as strings; some charge points send JSON numbers."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    try:
        number = float(raw)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
