"""A session's numbers so far: energy, power and duration, read from its meter values.

A stored running session has no energy yet (only a StopTransaction gives meter_stop), and
its summary is re-stored at most once a minute (ADR 0006). Its meter values are stored on
every MeterValues, so the API and the dashboard compute a running session's progress from
them when they read it. Pure: the caller passes the values and the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from chargestream.domain.records import MeterValue, Session
from chargestream.storage.base import Store
from chargestream.streams.meter import active_power_w, energy_wh

PROGRESS_VALUES = 1000  # a running session's latest values its progress is read from


@dataclass(frozen=True, slots=True)
class Progress:
    """A session's energy (kWh), last active power (W) and duration (s); None if unknown."""

    energy_kwh: float | None = None
    power_w: float | None = None
    duration_s: float | None = None


def progress(session: Session, values: Sequence[MeterValue], now: datetime) -> Progress:
    """A finished session's own figures; a running one's from its meter values (oldest first).

    Energy so far is the last import register reading less the start meter (or the first
    reading when the start meter is unknown); power is the last sample's active power.
    """
    end = session.stop_time or now
    duration = (end - session.start_time).total_seconds() if session.start_time else None
    if not session.active:
        return Progress(session.energy_kwh, None, duration)
    samples = [list(sample) for _, sample in groupby(values, key=lambda v: v.timestamp)]
    registers = [wh for sample in samples if (wh := energy_wh(sample)) is not None]
    powers = [w for sample in samples if (w := active_power_w(sample)) is not None]
    energy = None
    if registers:
        start = session.meter_start if session.meter_start is not None else registers[0]
        energy = max(registers[-1] - start, 0.0) / 1000
    return Progress(energy, powers[-1] if powers else None, duration)


async def progress_of(
    store: Store, sessions: Sequence[Session], now: datetime
) -> dict[int, Progress]:
    """Every session's progress by transaction id; only running ones read their meter values."""
    found = {}
    for session in sessions:
        values = (
            await store.meter_values(session.transaction_id, PROGRESS_VALUES, newest=True)
            if session.active
            else []
        )
        found[session.transaction_id] = progress(session, values, now)
    return found
