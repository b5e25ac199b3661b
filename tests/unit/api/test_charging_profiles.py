"""ChargingProfileService over the real CommandService (no charge point connected) and SQLite."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from chargestream.api.services.charging_profiles import (
    ChargingProfileService,
    ClearCriteria,
    ProfileBuilder,
)
from chargestream.api.services.errors import InvalidInput, NotFound
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargePointState,
    ChargingProfile,
    ChargingProfilePurpose,
    CommandOutcome,
    Session,
)
from chargestream.gateway.commands import CommandService
from chargestream.storage.sqlite import SqliteStore
from tests.storage_contract import charging_profile, minimal_charging_profile
from tests.unit.api.conftest import NOW, fixed_clock


@pytest.fixture
def service(store: SqliteStore, command_service: CommandService) -> ChargingProfileService:
    return ChargingProfileService(store, command_service, clock=fixed_clock)


def building(profile: ChargingProfile) -> ProfileBuilder:
    def build(profile_id: int, created_at: datetime) -> ChargingProfile:
        return dataclasses.replace(profile, profile_id=profile_id, created_at=created_at)

    return build


async def test_create_stores_under_a_new_id_and_refuses_a_broken_profile(
    service: ChargingProfileService, store: SqliteStore
) -> None:
    made = await service.create(building(charging_profile(0)))
    assert made.created_at == NOW and made == await store.get_charging_profile(made.profile_id)
    broken = dataclasses.replace(minimal_charging_profile(0), stack_level=101)
    with pytest.raises(InvalidInput, match="stack_level must be 0 to 100"):
        await service.create(building(broken))
    assert await service.listing(10) == [made]
    await service.delete(made.profile_id)
    with pytest.raises(NotFound):
        await service.delete(made.profile_id)


async def test_install_checks_the_profile_and_assignment_before_sending(
    service: ChargingProfileService, store: SqliteStore
) -> None:
    with pytest.raises(NotFound, match="no charging profile 5"):
        await service.install("CP-1", 5, 1, None, None, sent_by="api")
    cap = await service.create(building(minimal_charging_profile(0)))
    with pytest.raises(InvalidInput, match="connector 0 only"):
        await service.install("CP-1", cap.profile_id, 1, None, None, sent_by="api")
    assert await store.commands() == []
    record = await service.install("CP-1", cap.profile_id, 0, None, None, sent_by="api")
    assert (record.action, record.outcome) == ("SetChargingProfile", CommandOutcome.NOT_CONNECTED)
    assert record.payload["csChargingProfiles"]["chargingProfileId"] == cap.profile_id


def test_clear_criteria_send_only_what_is_given() -> None:
    assert ClearCriteria().payload() == {}
    assert ClearCriteria(7, 1, "TxProfile", 0).payload() == {
        "id": 7,
        "connectorId": 1,
        "chargingProfilePurpose": "TxProfile",
        "stackLevel": 0,
    }


def test_clear_criteria_in_the_2_0_1_form() -> None:
    assert ClearCriteria(None, 1, "TxProfile").payload(OcppVersion.V201) == {
        "chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxProfile"}
    }


async def test_a_2_0_1_charge_point_gets_the_2_0_1_form_with_the_station_transaction_id(
    service: ChargingProfileService, store: SqliteStore
) -> None:
    await store.upsert([ChargePointState("CS-1", ocpp_version=OcppVersion.V201)])
    tx = await service.create(
        building(
            dataclasses.replace(minimal_charging_profile(0), purpose=ChargingProfilePurpose.TX)
        )
    )
    with pytest.raises(InvalidInput, match=r"no OCPP 2\.0\.1 session of CS-1"):
        await service.install("CS-1", tx.profile_id, 1, 2**40, None, sent_by="api")
    session = Session(2**40, "CS-1", 1, station_transaction_id="tx-9", evse_id=1)
    await store.upsert([session])
    record = await service.install("CS-1", tx.profile_id, 1, 2**40, None, sent_by="api")
    assert record.payload["evseId"] == 1
    assert record.payload["chargingProfile"]["transactionId"] == "tx-9"
    composite = await service.composite_schedule("CS-1", 1, 60, None, None, sent_by="api")
    assert composite.payload == {"evseId": 1, "duration": 60}
