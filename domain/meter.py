"""Units of sampled values: what derivation and the dashboard both compare and chart in."""

from __future__ import annotations

from chargestream.domain.records import MeterValue

_KILO = {"kWh": "Wh", "kW": "W", "kvarh": "varh", "kvar": "var", "kVA": "VA"}


def base_value(value: MeterValue) -> tuple[float, str]:
    """The value in its unprefixed unit (kW -> W, kWh -> Wh, ...)."""
    if value.unit in _KILO:
        return value.value * 1000, _KILO[value.unit]
    return value.value, value.unit
