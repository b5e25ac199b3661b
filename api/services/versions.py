"""The OCPP version a feature speaks to a charge point: that of its last connection as the
views show it (1.6 when not derived yet). The gateway checks the command against the live
connection again (ADR 0009)."""

from __future__ import annotations

from chargestream.domain.protocols import OcppVersion
from chargestream.storage.base import Store


async def ocpp_version(store: Store, charge_point_id: str) -> OcppVersion:
    state = await store.get_charge_point_state(charge_point_id)
    return (state and state.ocpp_version) or OcppVersion.V16
