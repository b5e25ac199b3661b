"""Password rotation: which CALLs rotate, which answers apply, and the directory's two steps."""

from __future__ import annotations

import pytest

from chargestream.domain.records import Registration
from chargestream.gateway.connection import Reply
from chargestream.gateway.directory import Directory
from chargestream.gateway.ocppj import CallError, CallResult
from chargestream.gateway.rotation import applied, new_password, password_problem
from chargestream.storage.sqlite import SqliteStore

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        ("ChangeConfiguration", {"key": "AuthorizationKey", "value": KEY}, KEY),
        ("ChangeConfiguration", {"key": "authorizationkey", "value": KEY}, KEY),
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "300"}, None),
        ("ChangeConfiguration", {"key": "AuthorizationKey", "value": 7}, None),
        ("DataTransfer", {"key": "AuthorizationKey", "value": KEY}, None),
    ],
)
def test_only_a_change_of_the_authorization_key_rotates(
    action: str, payload: dict[str, object], expected: str | None
) -> None:
    assert new_password(action, payload) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (CallResult("m", {"status": "Accepted"}), True),
        (CallResult("m", {"status": "RebootRequired"}), True),
        (CallResult("m", {"status": "Rejected"}), False),
        (CallResult("m", {"status": "NotSupported"}), False),
        (CallResult("m", []), False),
        (CallError("m", "InternalError", "no", {}), False),
    ],
)
def test_accepted_and_reboot_required_apply(answer: CallResult | CallError, expected: bool) -> None:
    assert applied(Reply(answer)) is expected


def test_a_password_needs_16_to_40_characters() -> None:
    assert password_problem("x" * 16) is None and password_problem("x" * 40) is None
    assert "16 to 40 characters" in (password_problem("x" * 15) or "")
    assert "16 to 40 characters" in (password_problem("x" * 41) or "")


async def test_the_next_password_waits_beside_the_current_then_replaces_it(
    store: SqliteStore,
) -> None:
    directory = Directory(store, ttl=3600)
    await directory.register(Registration("CP-1", display_name="Depot", password_hash="old"))
    assert await directory.registration("CP-1") is not None  # cached now

    await directory.set_next_password("CP-1", "new")
    waiting = await directory.registration("CP-1")
    assert waiting == Registration("CP-1", display_name="Depot", password_hash="old",
                                   next_password_hash="new")  # fmt: skip

    await directory.promote_next_password("CP-1", "other")  # not the next one: no change
    assert await directory.registration("CP-1") == waiting
    await directory.promote_next_password("CP-1", "new")
    assert await directory.registration("CP-1") == Registration(
        "CP-1", display_name="Depot", password_hash="new"
    )
    assert await store.get_registration("CP-1") == await directory.registration("CP-1")


async def test_a_charge_point_not_yet_registered_is_registered_with_its_next_password(
    store: SqliteStore,
) -> None:
    directory = Directory(store, ttl=3600)
    await directory.set_next_password("CP-NEW", "new")
    stored = await store.get_registration("CP-NEW")
    assert stored is not None and stored.created_at is not None
    assert (stored.password_hash, stored.next_password_hash) == (None, "new")
