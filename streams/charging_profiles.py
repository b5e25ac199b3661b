"""Installed charging profiles from the SetChargingProfile and ClearChargingProfile the CSMS sent.

Pure helpers for ``derive``: a SetChargingProfile is derived once the log shows the charge
point's Accepted (whoever sent it: the API, an operator, the site load manager). OCPP 1.6's
rules: a new profile replaces an installed one with the same chargingProfileId, or with the
same stackLevel and purpose on the same connector; an Accepted ClearChargingProfile removes
those its criteria match (the id alone, else every given one of connectorId, purpose and
stackLevel; none given: all); a TxProfile goes when its transaction stops.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargestream.domain.records import InstalledChargingProfile, ProfileRemoval
from chargestream.streams.parse import get_connector_id, get_int, get_str

TX_PROFILE = "TxProfile"

ProfileKey = tuple[int, int]  # (connector id, chargingProfileId) of one charge point


def key_of(profile: InstalledChargingProfile) -> ProfileKey:
    return (profile.connector_id, profile.charging_profile_id)


def installed_profile(
    charge_point_id: str, request: dict[str, Any], answered_at: datetime
) -> InstalledChargingProfile | None:
    """The profile an Accepted SetChargingProfile installs, or None for one not derivable."""
    connector_id = get_connector_id(request)
    profile = request.get("csChargingProfiles")
    if connector_id is None or not isinstance(profile, dict):
        return None
    profile_id = get_int(profile, "chargingProfileId")
    stack_level = get_int(profile, "stackLevel")
    purpose = get_str(profile, "chargingProfilePurpose")
    if profile_id is None or stack_level is None or purpose is None:
        return None
    return InstalledChargingProfile(
        charge_point_id=charge_point_id,
        connector_id=connector_id,
        charging_profile_id=profile_id,
        stack_level=stack_level,
        purpose=purpose,
        installed_at=answered_at,
        profile=profile,
        transaction_id=get_int(profile, "transactionId"),
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
    profile_id = get_int(request, "id")
    if profile_id is not None:
        return [p for p in installed if p.charging_profile_id == profile_id]
    criteria = {
        "connector_id": get_int(request, "connectorId"),
        "purpose": get_str(request, "chargingProfilePurpose"),
        "stack_level": get_int(request, "stackLevel"),
    }
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
