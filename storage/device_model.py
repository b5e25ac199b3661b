"""What both back ends do alike with device model variables: bound them per charge point
and keep a report's description through later GetVariables/SetVariables updates."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from chargestream.domain.records import MAX_DEVICE_VARIABLES, DeviceVariable, VariableKey

log = logging.getLogger("chargestream.storage")


def admitted(
    incoming: Iterable[DeviceVariable],
    stored: Mapping[str, Mapping[VariableKey, DeviceVariable]],
) -> list[DeviceVariable]:
    """The variables to write: each merged with the stored one of its key (``stored``: by
    charge point, every one of the batch's), the last of a key in the batch winning; a new
    key only while its charge point keeps fewer than MAX_DEVICE_VARIABLES (the rest are
    skipped, and logged)."""
    written: dict[tuple[str, VariableKey], DeviceVariable] = {}
    counts = {cp: len(variables) for cp, variables in stored.items()}
    skipped: dict[str, int] = {}
    for variable in incoming:
        cp, key = variable.charge_point_id, variable.sort_key
        earlier = written.get((cp, key)) or stored[cp].get(key)
        if earlier is None:
            if counts[cp] >= MAX_DEVICE_VARIABLES:
                skipped[cp] = skipped.get(cp, 0) + 1
                continue
            counts[cp] += 1
        written[(cp, key)] = variable.keeping_report_of(earlier)
    for cp, count in skipped.items():  # MAX_DEVICE_VARIABLES reached
        log.warning(
            "device_model_full",
            extra={
                "fields": {"charge_point_id": cp, "skipped": count, "max": MAX_DEVICE_VARIABLES}
            },
        )
    return list(written.values())
