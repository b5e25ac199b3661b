"""``simulate --backfill-days N``: the past N days of a charge point's connectors.

Sent once after the first boot, before its boot statuses, as a charge point sends what it
queued while it could not reach the CSMS, in time order and paced below the CSMS's CALL
rate limit, each message with its past timestamp:

- sessions: OCPP 1.6 StartTransaction, MeterValues and StopTransaction; OCPP 2.0.1
  TransactionEvents Started, Updated (one per meter sample) and Ended;
- StatusNotifications: Available from the first day on, then Preparing, Charging, Finishing
  and Available again around each session (2.0.1: Occupied and Available, as its live
  statuses), and now and then Faulted between sessions until it recovers.

The CSMS derives them like any other messages, so a fresh demo has days of sessions, status
timelines and availability on every page. Past statuses are no transaction messages: a
connection dropped while they are sent loses the ones not sent yet, like live ones.
"""

from __future__ import annotations

import time
from typing import Any

from chargestream.simulator.chargepoint import FAULT_CODES, Call, ChargePoint
from chargestream.simulator.rng import Rng
from chargestream.simulator.session import Connector, Session

SESSION_MINUTES = (20.0, 90.0)
IDLE_HOURS = (1.0, 8.0)  # between a past session and the next on the same connector
METER_EVERY = 900.0  # seconds between past meter samples
PLUG_IN_SECONDS = (20.0, 90.0)  # Preparing before a session starts
UNPLUG_SECONDS = (30.0, 300.0)  # Finishing after a session ends
FAULT_CHANCE = 0.15  # that a connector faults while idle between two past sessions
FAULT_MINUTES = (10.0, 120.0)  # how long a past fault lasts (shorter if the gap is)
CALLS_PER_SECOND = 10  # below the CSMS's default of 20 CALLs per second per connection
LAST_ENDS_BEFORE = 600.0  # seconds before ``until`` the last past session has ended
_STOP_REASONS = ("Local", "EVDisconnected")


def iso(epoch: float) -> str:
    """``epoch`` as ISO 8601 UTC with milliseconds, like ``session.timestamp``."""
    whole = int(epoch)
    millis = int((epoch - whole) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{millis:03d}Z"


def history_calls(
    cp: ChargePoint, id_tags: tuple[str, ...], days: float, until: float, now: float
) -> list[Call]:
    """The past of every connector from ``days`` before ``until`` (epoch seconds).

    The connectors' registers advance by the energy drawn, so the live sessions that follow
    continue from there. The calls are due from ``now`` (loop time) at CALLS_PER_SECOND.
    """
    if days <= 0:
        return []
    timed: list[tuple[float, int, Call]] = []
    for connector in cp.connectors:
        past = _Past(cp, connector)
        past.fill(until - days * 86_400, until, id_tags)
        for at, call in past.calls:
            timed.append((at, len(timed), call))
    calls = [call for _, _, call in sorted(timed)]
    for position, call in enumerate(calls):
        call.due_at = now + position / CALLS_PER_SECOND
    return calls


class _Past:
    """One connector's past messages as (epoch seconds, call), oldest first."""

    def __init__(self, cp: ChargePoint, connector: Connector) -> None:
        self.cp = cp
        self.connector = connector
        self.rng: Rng = cp.rng
        self.calls: list[tuple[float, Call]] = []
        self._said: dict[str, Any] | None = None  # the last status, but its timestamp

    def fill(self, start: float, until: float, id_tags: tuple[str, ...]) -> None:
        """Sessions with idle gaps between them, from ``start`` to ten minutes before
        ``until``; some gaps hold a fault."""
        rng = self.rng
        self.status(start, "Available")
        free_from = start
        at = start + rng.uniform(0, 3_600 * IDLE_HOURS[1])
        while True:
            plugged = at - rng.uniform(*PLUG_IN_SECONDS)
            ends = at + 60 * rng.uniform(*SESSION_MINUTES)
            if ends >= until - LAST_ENDS_BEFORE:
                self.idle(free_from, until - LAST_ENDS_BEFORE)
                return
            self.idle(free_from, plugged)
            self.status(plugged, "Preparing")
            self.session(at, ends, rng.choice(id_tags))
            self.status(ends, "Finishing")
            free_from = ends + rng.uniform(*UNPLUG_SECONDS)
            self.status(free_from, "Available")
            at = ends + 3_600 * rng.uniform(*IDLE_HOURS)

    def idle(self, start: float, end: float) -> None:
        """Available from ``start`` to ``end``, or now and then Faulted for a while in it."""
        rng = self.rng
        if end - start < 120 or rng.random() >= FAULT_CHANCE:
            return
        faulted = rng.uniform(start + 60, end - 60)
        recovered = min(faulted + 60 * rng.uniform(*FAULT_MINUTES), end - 30)
        self.status(faulted, "Faulted", rng.choice(FAULT_CODES))
        self.status(recovered, "Available")

    def status(self, at: float, status: str, error_code: str = "NoError") -> None:
        """A StatusNotification at ``at``, when it says something else than the last one
        (2.0.1 reports Preparing, Charging and Finishing all as Occupied)."""
        call = self.cp.status_call(self.connector.id, status, error_code)
        said = {key: value for key, value in call.payload.items() if key != "timestamp"}
        if said != self._said:
            self._said = said
            call.payload["timestamp"] = iso(at)
            self.calls.append((at, call))

    def session(self, at: float, ends: float, id_tag: str) -> None:
        """A session from ``at`` to ``ends``, sampled every METER_EVERY seconds."""
        rng, cp, connector = self.rng, self.cp, self.connector
        session = Session(connector.id, id_tag, cp.model, rng)
        session.meter_start = int(connector.register_wh)
        session.start_timestamp = iso(at)
        self.calls.append((at, cp.start_call(connector, session)))
        self.status(at, "Charging")
        sampled = at
        while sampled + METER_EVERY < ends:
            sampled += METER_EVERY
            power = session.limit_w * rng.uniform(0.6, 0.95)
            connector.register_wh += power * METER_EVERY / 3_600
            values = [
                _sampled(int(connector.register_wh), "Energy.Active.Import.Register", "Wh"),
                _sampled(power, "Power.Active.Import", "W"),
            ]
            self.calls.append((sampled, cp.sample_call(session, iso(sampled), values)))
        connector.register_wh += session.limit_w * 0.5 * (ends - sampled) / 3_600
        session.meter_stop = int(connector.register_wh)
        session.stop_timestamp = iso(ends)
        session.stop_reason = rng.choice(_STOP_REASONS)
        self.calls.append((ends, cp.stop_call(session)))


def _sampled(value: float, measurand: str, unit: str) -> dict[str, str]:
    return {
        "value": str(round(value)),
        "context": "Sample.Periodic",
        "measurand": measurand,
        "unit": unit,
    }
