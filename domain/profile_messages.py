"""Charging profile commands in their wire form, per OCPP version: SetChargingProfile,
ClearChargingProfile and GetCompositeSchedule.

The one place both the API (a profile of the library) and the site load manager build
them. OCPP 2.0.1 names things differently: ``evseId`` for the connector, ``chargingProfile``
with ``id``, a list of schedules each with its own ``id`` (the profile's here), the
``ChargingStationMaxProfile`` for 1.6's ``ChargePointMaxProfile``, and ``transactionId``
the station's own string id. Pure; the gateway validates the payload against the charge
point's schema again when it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import ChargingProfile, ChargingProfilePurpose

V201_PURPOSES = {ChargingProfilePurpose.CHARGE_POINT_MAX.value: "ChargingStationMaxProfile"}
"""1.6 purposes spelled otherwise in 2.0.1 (the others are the same)."""


@dataclass(frozen=True, slots=True)
class ProfileTransaction:
    """The transaction a TxProfile is for: the session's id and, for OCPP 2.0.1, the
    station's own id (``Session.station_transaction_id``), which is what 2.0.1 sends."""

    transaction_id: int
    station_transaction_id: str | None = None


def purpose_in(version: OcppVersion, purpose: str) -> str:
    """``purpose`` (1.6 spelling, how the library stores it) as ``version`` spells it."""
    return V201_PURPOSES.get(purpose, purpose) if version is OcppVersion.V201 else purpose


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else ocpp_time(moment)


def _schedule(profile: ChargingProfile) -> dict[str, Any]:
    """The schedule's fields both versions share."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": profile.unit.value,
        "chargingSchedulePeriod": [
            {"startPeriod": period.start_period, "limit": period.limit}
            | _present({"numberPhases": period.number_phases})
            for period in profile.periods
        ],
    }
    return schedule | _present(
        {
            "duration": profile.duration,
            "startSchedule": _time(profile.start_schedule),
            "minChargingRate": profile.min_charging_rate,
        }
    )


def _header(profile: ChargingProfile, version: OcppVersion) -> dict[str, Any]:
    """The profile's fields both versions share (its id is named per version)."""
    return {
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": purpose_in(version, profile.purpose.value),
        "chargingProfileKind": profile.kind.value,
    } | _present(
        {
            "recurrencyKind": profile.recurrency_kind and profile.recurrency_kind.value,
            "validFrom": _time(profile.valid_from),
            "validTo": _time(profile.valid_to),
        }
    )


def cs_charging_profile(profile: ChargingProfile, transaction_id: int | None) -> dict[str, Any]:
    """OCPP 1.6's ``csChargingProfiles`` object (with ``transactionId`` for a TxProfile)."""
    return (
        {"chargingProfileId": profile.profile_id}
        | _header(profile, OcppVersion.V16)
        | {"chargingSchedule": _schedule(profile)}
        | _present({"transactionId": transaction_id})
    )


def charging_profile_v201(
    profile: ChargingProfile, station_transaction_id: str | None
) -> dict[str, Any]:
    """OCPP 2.0.1's ``chargingProfile`` object: one schedule, numbered like the profile."""
    return (
        {"id": profile.profile_id}
        | _header(profile, OcppVersion.V201)
        | {"chargingSchedule": [{"id": profile.profile_id} | _schedule(profile)]}
        | _present({"transactionId": station_transaction_id})
    )


def set_charging_profile(
    profile: ChargingProfile, connector_id: int, transaction_id: int | None = None
) -> dict[str, Any]:
    """OCPP 1.6 SetChargingProfile's payload: ``profile`` on ``connector_id``."""
    return {
        "connectorId": connector_id,
        "csChargingProfiles": cs_charging_profile(profile, transaction_id),
    }


def set_charging_profile_v201(
    profile: ChargingProfile, evse_id: int, station_transaction_id: str | None = None
) -> dict[str, Any]:
    """OCPP 2.0.1 SetChargingProfile's payload: ``profile`` on ``evse_id`` (0: the station)."""
    return {
        "evseId": evse_id,
        "chargingProfile": charging_profile_v201(profile, station_transaction_id),
    }


def set_charging_profile_in(
    version: OcppVersion,
    profile: ChargingProfile,
    connector_id: int,
    transaction: ProfileTransaction | None = None,
) -> dict[str, Any]:
    """SetChargingProfile as ``version`` sends it (a connector is a 2.0.1 EVSE)."""
    if version is OcppVersion.V201:
        station_id = None if transaction is None else transaction.station_transaction_id
        return set_charging_profile_v201(profile, connector_id, station_id)
    return set_charging_profile(
        profile, connector_id, None if transaction is None else transaction.transaction_id
    )


def clear_charging_profile_in(
    version: OcppVersion,
    profile_id: int | None = None,
    connector_id: int | None = None,
    purpose: str | None = None,
    stack_level: int | None = None,
) -> dict[str, Any]:
    """ClearChargingProfile as ``version`` sends it: the profile ``profile_id``, else those
    matching every criterion given (none: all)."""
    if version is OcppVersion.V201:
        criteria = _present(
            {
                "evseId": connector_id,
                "chargingProfilePurpose": None if purpose is None else purpose_in(version, purpose),
                "stackLevel": stack_level,
            }
        )
        return _present({"chargingProfileId": profile_id}) | (
            {"chargingProfileCriteria": criteria} if criteria else {}
        )
    return _present(
        {
            "id": profile_id,
            "connectorId": connector_id,
            "chargingProfilePurpose": purpose,
            "stackLevel": stack_level,
        }
    )


def get_composite_schedule_in(
    version: OcppVersion, connector_id: int, duration: int, unit: str | None = None
) -> dict[str, Any]:
    """GetCompositeSchedule as ``version`` sends it."""
    where = "evseId" if version is OcppVersion.V201 else "connectorId"
    return {where: connector_id, "duration": duration} | _present({"chargingRateUnit": unit})
