"""Time axes in 24-hour format with the time zone, Compare in real units (ui/charts.py)."""

from __future__ import annotations

from typing import Any

from chargestream.domain.records import MeterValue
from chargestream.ui.charts import comparison_chart, display_units, measurand_charts
from chargestream.ui.dataframes import meter_frame
from tests.storage_contract import at


def value(minutes: int, measurand: str, number: float, unit: str) -> MeterValue:
    return MeterValue("CP-1", 1, at(minutes), measurand, number, unit, transaction_id=7)


VALUES = meter_frame(
    [
        value(1, "Power.Active.Import", 50.0, "kW"),
        value(2, "Power.Active.Import", 48500, "W"),
        value(1, "SoC", 40, "Percent"),
        value(2, "SoC", 41, "Percent"),
        value(2, "Energy.Active.Import.Register", 1200, "Wh"),
    ]
)


def x_axes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    charts = spec.get("vconcat") or spec.get("layer") or [spec]
    return [chart["encoding"]["x"] for chart in charts]


def test_time_axes_are_24_hour_and_name_the_time_zone() -> None:
    spec = measurand_charts(VALUES, ["Power.Active.Import", "SoC"], "Europe/Lisbon").to_dict()

    for x in x_axes(spec):
        assert x["title"] == "Time (Europe/Lisbon)"
        assert "%H:%M" in x["axis"]["labelExpr"]
        assert "%I" not in x["axis"]["labelExpr"] and "%p" not in x["axis"]["labelExpr"]


def test_compare_draws_real_units_on_one_axis_per_unit() -> None:
    chart = comparison_chart(VALUES, ["Power.Active.Import", "SoC"], "UTC")
    spec = chart.to_dict()

    ys = [layer["encoding"]["y"] for layer in spec["layer"]]
    assert [y["title"] for y in ys] == ["Power.Active.Import (kW)", "SoC (Percent)"]
    assert [y["axis"]["orient"] for y in ys] == ["left", "right"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    power = chart.layer[0].data  # type: ignore[attr-defined]
    assert power["value"].tolist() == [50.0, 48.5]  # kW, not a share of the range


def test_display_units_are_kilo_for_power_and_energy() -> None:
    measurands = ["Energy.Active.Import.Register", "Power.Active.Import", "SoC"]
    assert display_units(VALUES, measurands) == ["kW", "Percent", "kWh"]
