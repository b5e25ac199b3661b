"""What a simulated fleet does: one immutable, picklable value per process."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from websockets.exceptions import InvalidURI
from websockets.uri import parse_uri

MAX_BACKFILL_DAYS = 31  # simulate --backfill-days
DEFAULT_ID_TAGS = ("SIM-TAG-0001", "SIM-TAG-0002", "SIM-TAG-0003", "SIM-TAG-0004")


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    url: str = "ws://127.0.0.1:9000/ocpp"  # the station id is appended as /{id}
    stations: int = 10
    v201_percent: int = 0  # of the stations, how many in a hundred speak OCPP 2.0.1
    first_station: int = 1  # stations are numbered first_station, first_station + 1, ...
    id_prefix: str = "SIM"  # ids look like SIM-00001
    meter_interval: float = 10.0  # seconds between MeterValues while charging; 0 = none
    heartbeat_interval: float | None = None  # None: use BootNotification.conf's interval
    duration: float | None = None  # None: run until stopped
    ramp_up: float = 0.0  # seconds over which the stations' first connects are spread
    session_minutes: tuple[float, float] = (1.0, 5.0)
    idle_seconds: tuple[float, float] = (10.0, 120.0)  # between unplugging and the next car
    id_tags: tuple[str, ...] = DEFAULT_ID_TAGS
    password: str | None = None  # HTTP Basic auth password for every station
    source_addresses: tuple[str, ...] = ()  # local addresses, assigned round-robin
    fault_rate: float = 0.002  # probability per station per minute
    reconnect_rate: float = 0.001  # probability per station per minute
    seed: int | None = None
    ledger_file: Path | None = None  # appended to; one JSON line per completed transaction
    call_timeout: float = 30.0  # no answer within this: drop the connection and reconnect
    reconnect_delay: float = 1.0  # first retry delay; doubles per failure up to a minute
    stop_grace: float = 10.0  # how long stopping waits for StopTransaction answers
    transaction_retry_interval: float = 10.0  # after a CALLERROR to a transaction message
    backfill_days: float = 0.0  # stations first send this many past days (sessions, statuses)

    def __post_init__(self) -> None:
        try:
            parse_uri(self.url)
        except InvalidURI as error:
            raise ValueError(f"--url: {error}") from None
        if self.stations < 0 or self.first_station < 1:
            raise ValueError("station counts must be positive")
        for name in (
            "meter_interval",
            "ramp_up",
            "call_timeout",
            "reconnect_delay",
            "stop_grace",
            "transaction_retry_interval",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.heartbeat_interval is not None and self.heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        for name in ("session_minutes", "idle_seconds"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name}: need 0 <= MIN <= MAX")
        for name in ("fault_rate", "reconnect_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} is a probability per minute: 0 <= R < 1")
        if not 0 <= self.v201_percent <= 100:
            raise ValueError("v201_percent must be 0 to 100")
        if not 0 <= self.backfill_days <= MAX_BACKFILL_DAYS:
            raise ValueError(f"--backfill-days: use 0 to {MAX_BACKFILL_DAYS}")
        if not self.id_tags or any(not 0 < len(tag) <= 20 for tag in self.id_tags):
            raise ValueError("id tags must be 1 to 20 characters")

    def speaks_v201(self, index: int) -> bool:
        """Whether station ``index`` speaks 2.0.1: spread evenly, exactly ``v201_percent`` of
        any 100 consecutive stations, the same however the fleet is split."""
        share = self.v201_percent
        return index * share // 100 > (index - 1) * share // 100

    def per_second(self, rate_per_minute: float) -> float:
        """Poisson event rate per second for a probability of at least one per minute."""
        return -math.log1p(-rate_per_minute) / 60

    def split(self, parts: int) -> list[FleetConfig]:
        """Contiguous blocks of stations, one per process; each ramps over the whole ramp-up."""
        size, extra = divmod(self.stations, parts)
        blocks = []
        first = self.first_station
        for part in range(parts):
            count = size + (part < extra)
            blocks.append(replace(self, first_station=first, stations=count))
            first += count
        return [block for block in blocks if block.stations]
