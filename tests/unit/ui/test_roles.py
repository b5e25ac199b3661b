"""ui.roles and the role part of ui.operators: who may do what, and the operators file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from chargestream.domain.passwords import hash_password
from chargestream.ui.operators import (
    LEGACY_ROLE,
    Operator,
    OperatorFileError,
    authenticate,
    ensure_default_operator,
    load_operators,
    operators_path,
    save_operators,
)
from chargestream.ui.roles import Permission, Role, parse_role


def test_each_role_allows_what_the_roles_below_it_allow() -> None:
    assert [r for r in Role if r.allows(Role.VIEWER)] == [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
    assert [r for r in Role if r.allows(Role.OPERATOR)] == [Role.OPERATOR, Role.ADMIN]
    assert [r for r in Role if r.allows(Role.ADMIN)] == [Role.ADMIN]


@pytest.mark.parametrize(
    ("permission", "roles"),
    [
        (Permission.SEND_COMMANDS, {Role.OPERATOR, Role.ADMIN}),
        (Permission.CHANGE_ID_TAGS, {Role.OPERATOR, Role.ADMIN}),
        (Permission.ACKNOWLEDGE_ALERTS, {Role.OPERATOR, Role.ADMIN}),
        (Permission.CHANGE_ALERT_RULES, {Role.ADMIN}),
        (Permission.CHANGE_SECURITY_PROFILES, {Role.ADMIN}),
    ],
)
def test_what_each_role_may_do(permission: Permission, roles: set[Role]) -> None:
    assert {r for r in Role if r.allows(permission.role)} == roles


def test_a_refusal_says_which_role_is_needed() -> None:
    assert Permission.SEND_COMMANDS.refusal(Role.VIEWER) == (
        "The role viewer may not send commands to charge points: that needs the role "
        "operator or admin."
    )
    assert Permission.CHANGE_ALERT_RULES.refusal(Role.OPERATOR).endswith(
        "may not change alert rules: that needs the role admin."
    )
    assert Permission.CHANGE_ID_TAGS.refusal(None).startswith("Only a signed-in operator")


def test_roles_are_parsed_by_name() -> None:
    assert parse_role(" Operator ") is Role.OPERATOR
    with pytest.raises(ValueError, match="the roles are viewer, operator, admin"):
        parse_role("root")


HASH = hash_password("a password", iterations=1_000)


def test_operators_are_stored_with_their_role(tmp_path: Path) -> None:
    save_operators(
        tmp_path, {"vic": Operator(HASH, Role.VIEWER), "ada": Operator(HASH, Role.ADMIN)}
    )
    stored = json.loads(operators_path(tmp_path).read_text())
    assert stored == {
        "ada": {"password_hash": HASH, "role": "admin"},
        "vic": {"password_hash": HASH, "role": "viewer"},
    }
    assert stat.S_IMODE(operators_path(tmp_path).stat().st_mode) == 0o600
    assert load_operators(tmp_path)["vic"] == Operator(HASH, Role.VIEWER)


def test_a_file_from_before_roles_keeps_working_and_its_operators_are_admins(
    tmp_path: Path,
) -> None:
    operators_path(tmp_path).write_text(json.dumps({"alice": HASH}))
    operators = load_operators(tmp_path)
    assert operators == {"alice": Operator(HASH, LEGACY_ROLE)} and LEGACY_ROLE is Role.ADMIN
    assert authenticate(operators, "alice", "a password")
    save_operators(tmp_path, operators)  # the next write stores the role
    assert json.loads(operators_path(tmp_path).read_text())["alice"]["role"] == "admin"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": {"password_hash": "h", "role": "root"}}', "operator 'a': unknown role 'root'"),
        ('{"a": {"role": "admin"}}', "operator 'a': expected a password hash and a role"),
        ('{"a": 1}', "operator 'a': expected"),
        ("[1, 2]", "expected an object"),
        ("{not json", "operators.json"),
    ],
)
def test_a_broken_operator_entry_is_reported(tmp_path: Path, content: str, message: str) -> None:
    operators_path(tmp_path).write_text(content)
    with pytest.raises(OperatorFileError, match=message):
        load_operators(tmp_path)


def test_the_default_operator_is_an_admin(tmp_path: Path) -> None:
    password = ensure_default_operator(tmp_path)
    assert password is not None
    admin = load_operators(tmp_path)["admin"]
    assert admin.role is Role.ADMIN
    assert authenticate({"admin": admin}, "admin", password)
