"""Charging profiles (OCPP 1.6 SmartCharging): the operator's definitions, installing one on a
charge point (SetChargingProfile), clearing (ClearChargingProfile), what is installed (derived
from the log) and the charge point's composite schedule (GetCompositeSchedule).

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
from chargestream.domain.records import (
    ChargingProfile,
    ChargingRateUnit,
    CommandRecord,
    InstalledChargingProfile,
)
from chargestream.gateway.charging_profiles import set_charging_profile
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

    def payload(self) -> dict[str, Any]:
        fields = {
            "id": self.profile_id,
            "connectorId": self.connector_id,
            "chargingProfilePurpose": self.purpose,
            "stackLevel": self.stack_level,
        }
        return {name: value for name, value in fields.items() if value is not None}


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
        payload = set_charging_profile(profile, connector_id, transaction_id)
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
        return await self._commands.send(
            charge_point_id, "ClearChargingProfile", criteria.payload(), timeout, sent_by=sent_by
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
        payload: dict[str, Any] = {"connectorId": connector_id, "duration": duration}
        if unit is not None:
            payload["chargingRateUnit"] = unit.value
        return await self._commands.send(
            charge_point_id, "GetCompositeSchedule", payload, timeout, sent_by=sent_by
        )


def _checked(rule: Callable[..., None], *args: Any) -> None:
    """Run a rule of domain/charging_profiles.py; its refusal as InvalidInput."""
    try:
        rule(*args)
    except InvalidProfile as error:
        raise InvalidInput(str(error)) from None
