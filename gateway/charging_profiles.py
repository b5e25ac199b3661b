"""A stored charging profile in its OCPP 1.6 wire form: SetChargingProfile's payload.

Pure; the gateway validates the payload against the OCPP schema again when it is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargestream.domain.ocpp_time import ocpp_time
from chargestream.domain.records import ChargingProfile


def cs_charging_profile(profile: ChargingProfile, transaction_id: int | None) -> dict[str, Any]:
    """The ``csChargingProfiles`` object (with ``transactionId`` for a TxProfile)."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": profile.unit.value,
        "chargingSchedulePeriod": [
            {"startPeriod": period.start_period, "limit": period.limit}
            | ({} if period.number_phases is None else {"numberPhases": period.number_phases})
            for period in profile.periods
        ],
    }
    optional_schedule = {
        "duration": profile.duration,
        "startSchedule": _time(profile.start_schedule),
        "minChargingRate": profile.min_charging_rate,
    }
    schedule |= {name: value for name, value in optional_schedule.items() if value is not None}
    payload: dict[str, Any] = {
        "chargingProfileId": profile.profile_id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": profile.purpose.value,
        "chargingProfileKind": profile.kind.value,
        "chargingSchedule": schedule,
    }
    optional = {
        "transactionId": transaction_id,
        "recurrencyKind": profile.recurrency_kind and profile.recurrency_kind.value,
        "validFrom": _time(profile.valid_from),
        "validTo": _time(profile.valid_to),
    }
    return payload | {name: value for name, value in optional.items() if value is not None}


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else ocpp_time(moment)


def set_charging_profile(
    profile: ChargingProfile, connector_id: int, transaction_id: int | None = None
) -> dict[str, Any]:
    """SetChargingProfile's payload: ``profile`` on ``connector_id``."""
    return {
        "connectorId": connector_id,
        "csChargingProfiles": cs_charging_profile(profile, transaction_id),
    }
