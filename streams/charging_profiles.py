"""Installed charging profiles from the SetChargingProfile and ClearChargingProfile the CSMS sent.

Pure helpers for ``derive``: a SetChargingProfile is derived once the log shows the charge
point's Accepted (whoever sent it: the API, an operator, the site load manager). OCPP 1.6's
rules: a new profile replaces an installed one with the same chargingProfileId, or with the
same stackLevel and purpose on the same connector; an Accepted ClearChargingProfile removes
those its criteria match (the id alone, else every given one of connectorId, purpose and
stackLevel; none given: all); a TxProfile goes when its transaction stops.

OCPP 2.0.1 (``*_v201``) has the same rules with its own names: ``evseId`` (an EVSE is
numbered as a connector in the views), ``chargingProfile.id``, ``chargingProfileId`` or
``chargingProfileCriteria`` to clear, and the station's string ``transactionId``, kept as
its session's id (``derive_v201.transaction_id``). Purposes are kept as the charge point
was sent them (2.0.1's ``ChargingStationMaxProfile``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargestream.domain.records import InstalledChargingProfile, ProfileRemoval
from chargestream.streams.derive_v201 import MAX_STATION_TRANSACTION_ID, transaction_id
from chargestream.streams.parse import (
    MAX_CONNECTOR_ID,
    get_connector_id,
    get_dict,
    get_int,
    get_str,
)

TX_PROFILE = "TxProfile"

ProfileKey = tuple[int, int]  # (connector id, chargingProfileId) of one charge point


def key_of(profile: InstalledChargingProfile) -> ProfileKey:
    return (profile.connector_id, profile.charging_profile_id)


def installed_profile(
    charge_point_id: str, request: dict[str, Any], answered_at: datetime
) -> InstalledChargingProfile | None:
    """The profile an Accepted SetChargingProfile installs, or None for one not derivable."""
    profile = request.get("csChargingProfiles")
    if not isinstance(profile, dict):
        return None
    return _installed(
        charge_point_id,
        get_connector_id(request),
        profile,
        get_int(profile, "chargingProfileId"),
        get_int(profile, "transactionId"),
        answered_at,
    )


def installed_profile_v201(
    charge_point_id: str, request: dict[str, Any], answered_at: datetime
) -> InstalledChargingProfile | None:
    """The profile an Accepted 2.0.1 SetChargingProfile installs, or None."""
    profile = request.get("chargingProfile")
    if not isinstance(profile, dict):
        return None
    station_id = get_str(profile, "transactionId")
    if station_id is not None and not 0 < len(station_id) <= MAX_STATION_TRANSACTION_ID:
        return None
    return _installed(
        charge_point_id,
        _evse_id(request, "evseId"),
        profile,
        get_int(profile, "id"),
        None if station_id is None else transaction_id(charge_point_id, station_id),
        answered_at,
    )


def _evse_id(payload: dict[str, Any], name: str) -> int | None:
    value = get_int(payload, name)
    return value if value is not None and 0 <= value <= MAX_CONNECTOR_ID else None


def _installed(
    charge_point_id: str,
    connector_id: int | None,
    profile: dict[str, Any],
    profile_id: int | None,
    tx: int | None,
    answered_at: datetime,
) -> InstalledChargingProfile | None:
    stack_level = get_int(profile, "stackLevel")
    purpose = get_str(profile, "chargingProfilePurpose")
    if connector_id is None or profile_id is None or stack_level is None or purpose is None:
        return None
    return InstalledChargingProfile(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        charging_profile_id=profile_id,
        stack_level=stack_level,
        purpose=purpose,
        installed_at=answered_at,
        profile=profile,
        transaction_id=tx,
    )


def replaced_by(
    new: InstalledChargingProfile, installed: Iterable[InstalledChargingProfile]
) -> list[InstalledChargingProfile]:
    """The installed profiles ``new`` replaces."""
    return [
        old
        for old in installed
        if old.charging_profile_id == new.charging_profile_id
        or (old.connector_id, old.stack_level, old.purpose)
        == (new.connector_id, new.stack_level, new.purpose)
    ]


def cleared_by(
    request: dict[str, Any], installed: Iterable[InstalledChargingProfile]
) -> list[InstalledChargingProfile]:
    """The installed profiles an Accepted ClearChargingProfile with ``request`` removes."""
    criteria = {
        "connector_id": get_int(request, "connectorId"),
        "purpose": get_str(request, "chargingProfilePurpose"),
        "stack_level": get_int(request, "stackLevel"),
    }
    return _matching(get_int(request, "id"), criteria, installed)


def cleared_by_v201(
    request: dict[str, Any], installed: Iterable[InstalledChargingProfile]
) -> list[InstalledChargingProfile]:
    """The installed profiles an Accepted 2.0.1 ClearChargingProfile removes."""
    given = get_dict(request, "chargingProfileCriteria")
    criteria = {
        "connector_id": get_int(given, "evseId"),
        "purpose": get_str(given, "chargingProfilePurpose"),
        "stack_level": get_int(given, "stackLevel"),
    }
    return _matching(get_int(request, "chargingProfileId"), criteria, installed)


def _matching(
    profile_id: int | None,
    criteria: dict[str, Any],
    installed: Iterable[InstalledChargingProfile],
) -> list[InstalledChargingProfile]:
    """The profile ``profile_id``, else those matching every criterion given (none: all)."""
    if profile_id is not None:
        return [p for p in installed if p.charging_profile_id == profile_id]
    wanted = {name: value for name, value in criteria.items() if value is not None}
    return [p for p in installed if all(getattr(p, n) == v for n, v in wanted.items())]


def ended_with(
    transaction_id: int, connector_id: int | None, installed: Iterable[InstalledChargingProfile]
) -> list[InstalledChargingProfile]:
    """The TxProfiles that go when ``transaction_id`` (on ``connector_id``) stops: those for it,
    and those installed without a transaction id on its connector."""
    return [
        p
        for p in installed
        if p.purpose == TX_PROFILE
        and (
            p.transaction_id == transaction_id
            or (p.transaction_id is None and p.connector_id == connector_id)
        )
    ]


def removed(
    profile: InstalledChargingProfile, why: ProfileRemoval, at: datetime
) -> InstalledChargingProfile:
    return replace(profile, removed_at=max(at, profile.installed_at), removed_by=why)
