"""Charger models of the SIMA pilot that simulated stations pretend to be.

Ratings are round figures for plausible behaviour, not datasheet values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ChargerModel:
    vendor: str
    model: str
    code: str  # serial number prefix
    connectors: int
    dc: bool
    max_power_w: int  # per connector
    max_current_a: int
    firmware: str
    meter_type: str
    taper_from_soc: float  # the vehicle draws full power up to this state of charge


MODELS = (
    ChargerModel(
        vendor="ABB",
        model="Terra 54",
        code="T54",
        connectors=2,
        dc=True,
        max_power_w=50_000,
        max_current_a=125,
        firmware="1.8.31",
        meter_type="DC energy meter",
        taper_from_soc=80.0,
    ),
    ChargerModel(
        vendor="ABB",
        model="Lunic Pro M",
        code="LPM",
        connectors=2,
        dc=False,
        max_power_w=22_000,
        max_current_a=32,
        firmware="2.1.4",
        meter_type="AC MID meter",
        taper_from_soc=95.0,
    ),
    ChargerModel(
        vendor="BYD",
        model="EVA040",
        code="EVA",
        connectors=1,
        dc=True,
        max_power_w=40_000,
        max_current_a=100,
        firmware="V3.0.7",
        meter_type="DC energy meter",
        taper_from_soc=80.0,
    ),
)


def boot_payload(model: ChargerModel, index: int) -> dict[str, Any]:
    """BootNotification.req of station number ``index`` (serials fit the 25-char limit)."""
    serial = f"{model.code}-{index:07d}"
    return {
        "chargePointVendor": model.vendor,
        "chargePointModel": model.model,
        "chargePointSerialNumber": serial,
        "chargeBoxSerialNumber": serial,
        "firmwareVersion": model.firmware,
        "meterType": model.meter_type,
        "meterSerialNumber": f"M{model.code}{index:08d}",
    }
