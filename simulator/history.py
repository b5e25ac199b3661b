"""``simulate --backfill-days N``: the past N days of an OCPP 1.6 charge point's sessions.

Sent once after the first boot, as a charge point sends what it queued while it could not
reach the CSMS: StartTransaction, MeterValues and StopTransaction with their past
timestamps, in time order, paced below the CSMS's CALL rate limit. The CSMS derives them
like any other session, so a fresh demo has days of history on every page.
"""

from __future__ import annotations

import time

from chargestream.simulator.chargepoint import Call, ChargePoint
from chargestream.simulator.session import Connector, Session

SESSION_MINUTES = (20.0, 90.0)
IDLE_HOURS = (1.0, 8.0)  # between a past session and the next on the same connector
METER_EVERY = 900.0  # seconds between past MeterValues
CALLS_PER_SECOND = 10  # below the CSMS's default of 20 CALLs per second per connection
_STOP_REASONS = ("Local", "EVDisconnected")


def iso(epoch: float) -> str:
    """``epoch`` as ISO 8601 UTC with milliseconds, like ``session.timestamp``."""
    whole = int(epoch)
    millis = int((epoch - whole) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{millis:03d}Z"


def history_calls(
    cp: ChargePoint, id_tags: tuple[str, ...], days: float, until: float, now: float
) -> list[Call]:
    """The past sessions of every connector from ``days`` before ``until`` (epoch seconds).

    The connectors' registers advance by the energy drawn, so the live sessions that follow
    continue from there. The calls are due from ``now`` (loop time) at CALLS_PER_SECOND.
    """
    timed: list[tuple[float, int, Call]] = []
    for connector in cp.connectors:
        for at, call in _connector_history(cp, connector, id_tags, until - days * 86_400, until):
            timed.append((at, len(timed), call))
    calls = [call for _, _, call in sorted(timed)]
    for position, call in enumerate(calls):
        call.due_at = now + position / CALLS_PER_SECOND
    return calls


def _connector_history(
    cp: ChargePoint, connector: Connector, id_tags: tuple[str, ...], start: float, until: float
) -> list[tuple[float, Call]]:
    rng = cp.rng
    calls: list[tuple[float, Call]] = []
    at = start + rng.uniform(0, 3_600 * IDLE_HOURS[1])
    while True:
        ends = at + 60 * rng.uniform(*SESSION_MINUTES)
        if ends >= until - 600:  # the last past session ended ten minutes ago at the latest
            return calls
        session = Session(connector.id, rng.choice(id_tags), cp.model, rng)
        session.meter_start = int(connector.register_wh)
        session.start_timestamp = iso(at)
        calls.append((at, cp.start_call(connector, session)))
        sampled = at
        while sampled + METER_EVERY < ends:
            sampled += METER_EVERY
            power = session.limit_w * rng.uniform(0.6, 0.95)
            connector.register_wh += power * METER_EVERY / 3_600
            calls.append((sampled, _meter_call(connector, session, sampled, power)))
        connector.register_wh += session.limit_w * 0.5 * (ends - sampled) / 3_600
        session.meter_stop = int(connector.register_wh)
        session.stop_timestamp = iso(ends)
        session.stop_reason = rng.choice(_STOP_REASONS)
        calls.append((ends, cp.stop_call(session)))
        at = ends + 3_600 * rng.uniform(*IDLE_HOURS)


def _meter_call(connector: Connector, session: Session, at: float, power: float) -> Call:
    def sampled(value: float, measurand: str, unit: str) -> dict[str, str]:
        return {
            "value": str(round(value)),
            "context": "Sample.Periodic",
            "measurand": measurand,
            "unit": unit,
        }

    values = [
        sampled(int(connector.register_wh), "Energy.Active.Import.Register", "Wh"),
        sampled(power, "Power.Active.Import", "W"),
    ]
    payload = {
        "connectorId": connector.id,
        "meterValue": [{"timestamp": iso(at), "sampledValue": values}],
    }
    return Call("MeterValues", payload, session)
