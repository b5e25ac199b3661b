"""Charging profiles (OCPP SmartCharging): the operator's definitions, installing one on a
charge point (SetChargingProfile), clearing (ClearChargingProfile), what is installed (derived
from the log) and the charge point's composite schedule (GetCompositeSchedule).

Each command goes in the form of the charge point's OCPP version (as the command path knows
it: its live connection, its pinned version, its last connection; 1.6 if none says): a 2.0.1
TxProfile names the station's own transaction id, read from the session.

The store allocates each definition's chargingProfileId (1 to 999_999_999; the site load
manager uses the ids above). Deleting a definition leaves what is installed as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.charging_profiles import InvalidProfile, check, check_assignment
from chargestream.domain.profile_messages import (
    ProfileTransaction,
    clear_charging_profile_in,
    get_composite_schedule_in,
    set_charging_profile_in,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargingProfile,
    ChargingRateUnit,
    CommandRecord,
    InstalledChargingProfile,
)
from chargestream.gateway.commands import CommandService
from chargestream.storage.base import Store

ProfileBuilder = Callable[[int, datetime], ChargingProfile]
"""Makes the profile from its id and creation time."""


@dataclass(frozen=True)
class ClearCriteria:
    """Which installed profiles ClearChargingProfile removes (none given: all)."""

    profile_id: int | None = None
    connector_id: int | None = None
    purpose: str | None = None
    stack_level: int | None = None

    def payload(self, version: OcppVersion = OcppVersion.V16) -> dict[str, Any]:
        return clear_charging_profile_in(
            version, self.profile_id, self.connector_id, self.purpose, self.stack_level
        )


class ChargingProfileService:
    def __init__(self, store: Store, commands: CommandService, clock: Clock = utc_now) -> None:
        self._store = store
        self._commands = commands
        self._clock = clock

    async def create(self, build: ProfileBuilder) -> ChargingProfile:
        """Check the profile (InvalidInput with every broken rule), then store it under a
        new id."""
        draft = build(1, self._clock())
        _checked(check, draft)
        profile_id = await self._store.allocate_charging_profile_id()
        profile = replace(draft, profile_id=profile_id)
        await self._store.put_charging_profile(profile)
        return profile

    async def listing(self, limit: int) -> list[ChargingProfile]:
        return await self._store.charging_profiles(limit)

    async def get(self, profile_id: int) -> ChargingProfile:
        profile = await self._store.get_charging_profile(profile_id)
        if profile is None:
            raise NotFound(f"no charging profile {profile_id}")
        return profile

    async def delete(self, profile_id: int) -> None:
        if not await self._store.delete_charging_profile(profile_id):
            raise NotFound(f"no charging profile {profile_id}")

    async def install(
        self,
        charge_point_id: str,
        profile_id: int,
        connector_id: int,
        transaction_id: int | None,
        timeout: float | None,
        *,
        sent_by: str,
    ) -> CommandRecord:
        """Send SetChargingProfile; the profile reads installed once the charge point's
        Accepted is derived. NotFound for an unknown profile, InvalidInput for an assignment
        OCPP forbids."""
        profile = await self.get(profile_id)
        _checked(check_assignment, profile, connector_id, transaction_id)
        version = await self._version(charge_point_id)
        transaction = None
        if transaction_id is not None:
            transaction = await self._transaction(charge_point_id, transaction_id, version)
        payload = set_charging_profile_in(version, profile, connector_id, transaction)
        return await self._commands.send(
            charge_point_id, "SetChargingProfile", payload, timeout, sent_by=sent_by
        )

    async def installed(
        self, charge_point_id: str, include_removed: bool
    ) -> list[InstalledChargingProfile]:
        found = await self._store.installed_charging_profiles(charge_point_id)
        return [p for p in found if include_removed or p.installed]

    async def clear(
        self,
        charge_point_id: str,
        criteria: ClearCriteria,
        timeout: float | None,
        *,
        sent_by: str,
    ) -> CommandRecord:
        payload = criteria.payload(await self._version(charge_point_id))
        return await self._commands.send(
            charge_point_id, "ClearChargingProfile", payload, timeout, sent_by=sent_by
        )

    async def composite_schedule(
        self,
        charge_point_id: str,
        connector_id: int,
        duration: int,
        unit: ChargingRateUnit | None,
        timeout: float | None,
        *,
        sent_by: str,
    ) -> CommandRecord:
        """Send GetCompositeSchedule; the charge point's schedule is the command's response."""
        version = await self._version(charge_point_id)
        unit_name = None if unit is None else unit.value
        payload = get_composite_schedule_in(version, connector_id, duration, unit_name)
        return await self._commands.send(
            charge_point_id, "GetCompositeSchedule", payload, timeout, sent_by=sent_by
        )

    async def _version(self, charge_point_id: str) -> OcppVersion:
        """The charge point's version as the command path knows it (its live connection,
        its pin, its last connection; 1.6 if none says)."""
        return await self._commands.version(charge_point_id) or OcppVersion.V16

    async def _transaction(
        self, charge_point_id: str, transaction_id: int, version: OcppVersion
    ) -> ProfileTransaction:
        """A TxProfile's transaction; for 2.0.1 with the station's id, from its session
        (InvalidInput for a transaction of no 2.0.1 session of the charge point)."""
        if version is not OcppVersion.V201:
            return ProfileTransaction(transaction_id)
        session = await self._store.get_session(transaction_id)
        if (
            session is None
            or session.charge_point_id != charge_point_id
            or session.station_transaction_id is None
        ):
            raise InvalidInput(
                f"transaction {transaction_id} is no OCPP 2.0.1 session of {charge_point_id}"
            )
        return ProfileTransaction(transaction_id, session.station_transaction_id)


def _checked(rule: Callable[..., None], *args: Any) -> None:
    """Run a rule of domain/charging_profiles.py; its refusal as InvalidInput."""
    try:
        rule(*args)
    except InvalidProfile as error:
        raise InvalidInput(str(error)) from None
