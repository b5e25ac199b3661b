"""Deriving and storing a batch so that one poisonous event never stops the others.

An event whose derivation fails, or whose records the store refuses with anything but an
outage (a bug, a value no record can hold), is logged as ``derivation_skipped``, counted,
and skipped. Outages (``StoreUnavailable``, ``EventLogUnavailable``) are not skipped: the
caller retries the batch. Used by the embedded runner and the Faust worker alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from chargestream.domain.frames import LoggedEvent
from chargestream.domain.records import DerivedRecord
from chargestream.eventlog.base import EventLogUnavailable
from chargestream.storage.base import Store, StoreUnavailable
from chargestream.streams import metrics
from chargestream.streams.derive import ChargePointDerivation, DerivationSettings, derive

log = logging.getLogger("chargestream.streams")

OUTAGES = (StoreUnavailable, EventLogUnavailable)

Derived = list[tuple[LoggedEvent, list[DerivedRecord]]]
"""Each event of a batch with the records its derivation made, in log order."""


def derive_batch(
    batch: Sequence[LoggedEvent],
    state_of: Callable[[str], ChargePointDerivation | None],
    settings: DerivationSettings,
) -> tuple[dict[str, ChargePointDerivation], Derived]:
    """Derive each event from its charge point's state (``state_of``: before this batch).

    Returns the states the batch changed, by charge point, and every derived event.
    """
    changed: dict[str, ChargePointDerivation] = {}
    derived: Derived = []
    for logged in batch:
        cp = logged.event.charge_point_id
        state = changed.get(cp) or state_of(cp)
        try:
            changed[cp], records = derive(state, logged, settings)
        except Exception as error:  # one poisonous event must not stop the rest
            skipped(logged, error)
            continue
        derived.append((logged, records))
    return changed, derived


async def upsert_skipping(store: Store, derived: Derived) -> None:
    """Store the records; if the store refuses them, event by event, skipping the bad."""
    try:
        await store.upsert([record for _, records in derived for record in records])
    except OUTAGES:
        raise
    except Exception:  # which event's records? each alone says
        for logged, records in derived:
            if not records:
                continue
            try:
                await store.upsert(records)
            except OUTAGES:
                raise
            except Exception as error:
                skipped(logged, error)


def skipped(logged: LoggedEvent, error: Exception) -> None:
    metrics.SKIPPED_EVENTS.inc()
    log.error(
        "derivation_skipped",
        extra={
            "fields": {
                "cp": logged.event.charge_point_id,
                "position": logged.position,
                "error": repr(error)[:200],
            }
        },
    )
