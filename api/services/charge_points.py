"""Charge points: their registration by the operator and what the CSMS has seen of them."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from chargestream.api.schemas import ChargePointIn, ChargePointOut
from chargestream.api.services.clock import Clock, utc_now
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.passwords import hash_charge_point_password
from chargestream.domain.records import (
    Registration,
    SecurityEvent,
    StatusInterval,
    TransferStatus,
)
from chargestream.gateway.directory import Directory
from chargestream.storage.base import Store

MAX_ID_LENGTH = 48  # the OCPP 1.6 chargeBoxIdentity limit
STATUS_HISTORY_WINDOW = timedelta(hours=24)

T = TypeVar("T")


class ChargePointService:
    def __init__(
        self, store: Store, directory: Directory | None = None, clock: Clock = utc_now
    ) -> None:
        """``directory``: the gateway's cache in this process, told of every change."""
        self._store = store
        self._directory = directory
        self._clock = clock

    async def listing(self, limit: int) -> list[ChargePointOut]:
        """Registered or seen charge points, by id."""
        registrations = {r.charge_point_id: r for r in await self._store.list_registrations()}
        states = {s.charge_point_id: s for s in await self._store.list_charge_point_states(limit)}
        ids = sorted(registrations.keys() | states.keys())[:limit]
        return [ChargePointOut.build(i, registrations.get(i), states.get(i)) for i in ids]

    async def get(self, charge_point_id: str) -> ChargePointOut:
        """NotFound unless the charge point is registered or was ever seen."""
        registration = await self._store.get_registration(charge_point_id)
        state = await self._store.get_charge_point_state(charge_point_id)
        if registration is None and state is None:
            raise NotFound(f"unknown charge point {charge_point_id!r}")
        return ChargePointOut.build(charge_point_id, registration, state)

    async def require_known(self, charge_point_id: str) -> None:
        await self.get(charge_point_id)

    async def register(self, charge_point_id: str, changes: ChargePointIn) -> ChargePointOut:
        """Register or update; omitted fields keep their value."""
        if not 0 < len(charge_point_id) <= MAX_ID_LENGTH:
            raise InvalidInput(f"charge point id must have 1 to {MAX_ID_LENGTH} characters")
        current = await self._store.get_registration(charge_point_id) or Registration(
            charge_point_id, created_at=self._clock()
        )
        updated = replace(
            current,
            display_name=_given_or(changes.display_name, current.display_name),
            location=_given_or(changes.location, current.location),
            lenient=_given_or(changes.lenient, current.lenient),
            password_hash=_password_hash(changes, current.password_hash),
            security_profile=_set_or(changes, "security_profile", current.security_profile),
            max_current_a=_set_or(changes, "max_current_a", current.max_current_a),
            phases=_set_or(changes, "phases", current.phases),
            ocpp_version=_set_or(changes, "ocpp_version", current.ocpp_version),
            next_password_hash=_next_password_hash(changes, current.next_password_hash),
        )
        await self._store.put_registration(updated)
        self._forget(charge_point_id)
        state = await self._store.get_charge_point_state(charge_point_id)
        return ChargePointOut.build(charge_point_id, updated, state)

    async def unregister(self, charge_point_id: str) -> None:
        """Remove the registration; the charge point's history stays."""
        if not await self._store.delete_registration(charge_point_id):
            raise NotFound(f"charge point {charge_point_id!r} is not registered")
        self._forget(charge_point_id)

    async def status_history(
        self, charge_point_id: str, start: datetime | None, end: datetime | None
    ) -> list[StatusInterval]:
        """Intervals overlapping [start, end); by default the 24 hours up to now."""
        end = end or self._clock()
        start = start or end - STATUS_HISTORY_WINDOW
        if start >= end:
            raise InvalidInput("'from' must be before 'to'")
        return await self._store.status_history(charge_point_id, start, end)

    async def security_events(
        self, charge_point_id: str, limit: int, before: datetime | None
    ) -> list[SecurityEvent]:
        """Newest first by the charge point's timestamp."""
        return await self._store.security_events(charge_point_id, limit, before)

    async def transfer_statuses(self, charge_point_id: str) -> list[TransferStatus]:
        """The last signed-firmware and log-upload statuses (``transfer``: firmware, log)."""
        return await self._store.transfer_statuses(charge_point_id)

    def _forget(self, charge_point_id: str) -> None:
        if self._directory is not None:
            self._directory.registrations.invalidate(charge_point_id)


def _given_or(given: T | None, current: T) -> T:
    return current if given is None else given


def _set_or(changes: ChargePointIn, name: str, current: T) -> T:
    """The field's new value if the request names it (null too: back to unknown/default)."""
    value: T = getattr(changes, name)
    return value if name in changes.model_fields_set else current


def _password_hash(changes: ChargePointIn, current: str | None) -> str | None:
    if changes.remove_password:
        return None
    if changes.password:
        return hash_charge_point_password(changes.password)
    return current


def _next_password_hash(changes: ChargePointIn, current: str | None) -> str | None:
    """A password set or removed by the operator ends a rotation in progress."""
    return None if changes.remove_password or changes.password else current
