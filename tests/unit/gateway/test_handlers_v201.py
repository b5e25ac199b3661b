"""The OCPP 2.0.1 handlers over a real SQLite store: every charging station message is
answered, each answer valid against its 2.0.1 response schema; the shared rules (id tags
as id tokens, registration policy) give the 2.0.1 shapes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import IdTag, IdTagStatus
from chargestream.gateway import dispatch
from chargestream.gateway.handlers import CentralSystem
from chargestream.gateway.handlers_v201 import id_token_info
from chargestream.gateway.schemas import (
    CSMS_ACTIONS_V201,
    STATION_ACTIONS_V201,
    validate_request,
    validate_response,
)
from chargestream.storage.sqlite import SqliteStore
from tests.ocpp201_requests import REQUESTS
from tests.unit.gateway.conftest import NOW, central_system, context

V201 = OcppVersion.V201
assert dispatch  # the 2.0.1 handlers register when the dispatcher is imported


def test_every_station_message_has_a_sample_and_a_handler(central: CentralSystem) -> None:
    assert set(REQUESTS) == STATION_ACTIONS_V201
    assert all(central.handles(action, V201) for action in STATION_ACTIONS_V201)
    assert not any(central.handles(action, V201) for action in CSMS_ACTIONS_V201 - REQUESTS.keys())
    assert not central.handles("StartTransaction", V201)  # 1.6 only
    assert not central.handles("TransactionEvent")  # 2.0.1 only


@pytest.mark.parametrize("action", sorted(STATION_ACTIONS_V201))
async def test_every_answer_is_valid_against_its_201_schema(
    central: CentralSystem, action: str
) -> None:
    validate_request(action, REQUESTS[action], V201)
    answer = await central.handle(action, context(), REQUESTS[action], V201)
    validate_response(action, answer, V201)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("Get15118EVCertificate", "Failed"),
        ("GetCertificateStatus", "Failed"),
        ("NotifyEVChargingNeeds", "Rejected"),
        ("DataTransfer", "UnknownVendorId"),
    ],
)
async def test_features_not_offered_are_answered_as_the_specification_allows(
    central: CentralSystem, action: str, status: str
) -> None:
    answer = await central.handle(action, context(), REQUESTS[action], V201)
    assert answer["status"] == status


async def test_authorize_answers_id_token_info_from_the_id_tags(store: SqliteStore) -> None:
    central = central_system(store)
    expiry = NOW + timedelta(days=1)
    await store.put_id_tag(IdTag("TAG1", IdTagStatus.ACCEPTED, expiry, parent_id_tag="FLEET"))
    answer = await central.handle("Authorize", context(), REQUESTS["Authorize"], V201)
    assert answer == {
        "idTokenInfo": {
            "status": "Accepted",
            "cacheExpiryDateTime": "2026-11-28T10:00:00.123Z",
            "groupIdToken": {"idToken": "FLEET", "type": "Central"},
        }
    }
    unknown = {"idToken": {"idToken": "NOPE", "type": "ISO14443"}}
    assert (await central.handle("Authorize", context(), unknown, V201)) == {
        "idTokenInfo": {"status": "Invalid"}
    }


async def test_transaction_event_answers_id_token_info_only_with_an_id_token(
    central: CentralSystem,
) -> None:
    with_token = await central.handle(
        "TransactionEvent", context(), REQUESTS["TransactionEvent"], V201
    )
    assert with_token == {"idTokenInfo": {"status": "Invalid"}}
    without = {k: v for k, v in REQUESTS["TransactionEvent"].items() if k != "idToken"}
    assert await central.handle("TransactionEvent", context(), without, V201) == {}


@pytest.mark.parametrize(("policy", "status"), [("pending", "Pending"), ("reject", "Rejected")])
async def test_boot_follows_the_registration_policy(
    store: SqliteStore, policy: str, status: str
) -> None:
    central = central_system(store, registration_policy=policy)
    answer = await central.handle("BootNotification", context(), REQUESTS["BootNotification"], V201)
    assert answer["status"] == status and answer["interval"] == 300
    validate_response("BootNotification", answer, V201)


def test_id_token_info_of_an_expired_tag() -> None:
    tag = IdTag("TAG1", IdTagStatus.ACCEPTED, NOW - timedelta(seconds=1))
    assert id_token_info(tag, NOW, accept_unknown=False)["status"] == "Expired"
    assert id_token_info(None, NOW, accept_unknown=True) == {"status": "Accepted"}
