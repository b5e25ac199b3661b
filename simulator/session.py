"""Connectors, the vehicles plugged into them, and the energy they draw.

Power stays constant between two samples, so the register grows by exactly
power x time and ``meterStop - meterStart`` matches the MeterValues sent.
"""

from __future__ import annotations

import math
import time

from chargestream.simulator.profiles import ChargerModel
from chargestream.simulator.rng import Rng

NEVER = math.inf

_DC_VEHICLE_LIMITS_W = (50_000, 100_000, 150_000)
_AC_VEHICLE_LIMITS = ((1, 7_400), (3, 11_000), (3, 22_000))  # (phases, on-board charger W)
_DC_PHASES = 1  # DC current is reported as one value


def timestamp() -> str:
    """Now as ISO 8601 UTC with milliseconds, e.g. 2024-05-01T12:00:00.123Z."""
    now = time.time()
    whole = int(now)
    millis = int((now - whole) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{millis:03d}Z"


class Session:
    """One vehicle, from plug-in until its StopTransaction is answered."""

    __slots__ = (
        "capacity_wh",
        "connector_id",
        "ends_at",
        "id_tag",
        "limit_w",
        "meter_start",
        "meter_stop",
        "phases",
        "power_w",
        "remote_start_id",
        "seq_no",
        "soc",
        "start_timestamp",
        "stop_reason",
        "stop_timestamp",
        "token_type",
        "transaction_id",
    )

    def __init__(self, connector_id: int, id_tag: str, model: ChargerModel, rng: Rng) -> None:
        self.connector_id = connector_id
        self.id_tag = id_tag
        self.capacity_wh = rng.uniform(40_000, 90_000)
        self.soc = rng.uniform(10, 60)
        if model.dc:
            self.phases, vehicle_w = _DC_PHASES, rng.choice(_DC_VEHICLE_LIMITS_W)
        else:
            self.phases, vehicle_w = rng.choice(_AC_VEHICLE_LIMITS)
        self.limit_w = min(model.max_power_w, vehicle_w)
        self.power_w = 0.0
        # 1.6: the CSMS's number once StartTransaction is answered; 2.0.1: the station's own
        self.transaction_id: int | str | None = None
        self.token_type = "ISO14443"  # 2.0.1 idToken type
        self.remote_start_id: int | None = None  # 2.0.1 RequestStartTransaction's id
        self.seq_no = 0  # 2.0.1: the next TransactionEvent's seqNo
        self.meter_start = self.meter_stop = 0
        self.start_timestamp = self.stop_timestamp = self.stop_reason = ""
        self.ends_at = NEVER


def _value(
    value: str, context: str, measurand: str, unit: str, location: str | None = None
) -> dict[str, str]:
    sampled = {"value": value, "context": context, "measurand": measurand, "unit": unit}
    if location is not None:
        sampled["location"] = location
    return sampled


class Connector:
    __slots__ = (
        "due_at",
        "error_code",
        "id",
        "model",
        "next_meter_at",
        "operative",
        "register_wh",
        "sampled_at",
        "session",
        "status",
    )

    def __init__(self, connector_id: int, model: ChargerModel, register_wh: float) -> None:
        self.id = connector_id
        self.model = model
        self.register_wh = register_wh
        self.status = "Available"
        self.error_code = "NoError"
        self.operative = True
        self.session: Session | None = None
        self.due_at = NEVER  # when the station next looks at this connector
        self.next_meter_at = NEVER
        self.sampled_at = 0.0

    @property
    def charging_session(self) -> Session | None:
        """The session if its transaction has started (a car in Preparing draws nothing)."""
        return self.session if self.status == "Charging" else None

    def advance(self, now: float, rng: Rng) -> None:
        """Add the energy drawn since the last sample, then pick the power until the next."""
        session = self.charging_session
        if session is None:
            return
        energy_wh = session.power_w * (now - self.sampled_at) / 3600
        self.register_wh += energy_wh
        session.soc = min(100.0, session.soc + 100 * energy_wh / session.capacity_wh)
        self.sampled_at = now
        knee = self.model.taper_from_soc
        taper = 1.0 if session.soc <= knee else (100.0 - session.soc) / (100.0 - knee)
        session.power_w = session.limit_w * taper * rng.uniform(0.97, 1.0)

    def sampled_values(self, context: str) -> list[dict[str, str]]:
        """The eight SIMA measurands while charging; just the register otherwise."""
        register = _value(
            str(int(self.register_wh)), context, "Energy.Active.Import.Register", "Wh"
        )
        session = self.charging_session
        if session is None:
            return [register]
        model = self.model
        power = session.power_w
        volts = 350.0 + 0.8 * session.soc if model.dc else 230.0
        amps = power / (session.phases * volts)
        temperature = 25.0 + 15.0 * power / model.max_power_w
        return [
            _value(f"{amps:.1f}", context, "Current.Import", "A"),
            register,
            _value(str(round(power)), context, "Power.Active.Import", "W"),
            _value(str(int(session.soc)), context, "SoC", "Percent", "EV"),
            _value(f"{volts:.1f}", context, "Voltage", "V"),
            _value(str(model.max_current_a), context, "Current.Offered", "A"),
            _value(str(model.max_power_w), context, "Power.Offered", "W"),
            _value(f"{temperature:.1f}", context, "Temperature", "Celsius", "Body"),
        ]
