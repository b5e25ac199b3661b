"""The admission rule of the security profiles, as a table."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from chargestream.domain.records import Registration
from chargestream.gateway.security import Password, admit, authenticated, profile_of

CP = "CP-1"


def decide(profile: int, tls: bool, password: Password, cn: str | None = None):
    return admit(profile, tls=tls, password=password, certificate_cn=cn, charge_point_id=CP)


@pytest.mark.parametrize("tls", [False, True])
def test_profile_0_admits_without_a_password_and_checks_one_that_is_set(tls: bool) -> None:
    assert decide(0, tls, Password.NONE_SET) is None
    assert decide(0, tls, Password.RIGHT) is None
    assert decide(0, tls, Password.UNCHECKED) is None
    missing = decide(0, tls, Password.NOT_SENT)
    assert missing is not None and missing.status == HTTPStatus.UNAUTHORIZED
    assert not missing.failed_auth
    wrong = decide(0, tls, Password.WRONG)
    assert wrong is not None and wrong.status == HTTPStatus.UNAUTHORIZED and wrong.failed_auth


@pytest.mark.parametrize(("profile", "tls"), [(1, False), (1, True), (2, True)])
def test_profiles_1_and_2_need_a_password_set_and_right(profile: int, tls: bool) -> None:
    assert decide(profile, tls, Password.RIGHT) is None
    assert decide(profile, tls, Password.UNCHECKED) is None
    unset = decide(profile, tls, Password.NONE_SET)
    assert unset is not None and unset.reason == "no_password_set"
    assert unset.status == HTTPStatus.UNAUTHORIZED
    for state in (Password.NOT_SENT, Password.WRONG):
        refusal = decide(profile, tls, state)
        assert refusal is not None and refusal.status == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("profile", [2, 3])
def test_profiles_2_and_3_are_never_admitted_over_plain_websockets(profile: int) -> None:
    for state in Password:
        refusal = decide(profile, False, state, CP)
        assert refusal is not None and refusal.reason == "tls_required"
        assert refusal.status == HTTPStatus.FORBIDDEN


def test_profile_3_needs_a_certificate_of_this_charge_point() -> None:
    assert decide(3, True, Password.NONE_SET, CP) is None
    assert decide(3, True, Password.NOT_SENT, CP) is None  # Basic auth is not required
    assert decide(3, True, Password.RIGHT, CP) is None
    missing = decide(3, True, Password.RIGHT, None)
    assert missing is not None and missing.status == HTTPStatus.UNAUTHORIZED
    assert missing.failed_auth
    other = decide(3, True, Password.RIGHT, "CP-2")
    assert other is not None and other.status == HTTPStatus.FORBIDDEN and other.failed_auth


def test_profile_3_refuses_a_wrong_password_that_is_sent() -> None:
    wrong = decide(3, True, Password.WRONG, CP)
    assert wrong is not None and wrong.reason == "auth" and wrong.failed_auth


def test_refusals_say_nothing_about_what_is_stored() -> None:
    texts = {
        refusal.text
        for refusal in (decide(1, False, s) for s in (Password.NONE_SET, Password.WRONG))
        if refusal is not None
    }
    assert texts == {"invalid credentials\n"}


def test_a_charge_points_own_profile_wins_over_the_default() -> None:
    assert profile_of(None, 2) == 2
    assert profile_of(Registration(CP), 1) == 1
    assert profile_of(Registration(CP, security_profile=0), 3) == 0


def test_who_authenticates_may_have_a_csr_signed() -> None:
    assert not authenticated(None, 0)
    assert not authenticated(Registration(CP), 0)
    assert authenticated(Registration(CP, password_hash="pbkdf2_sha256$1$00$00"), 0)
    assert authenticated(Registration(CP, security_profile=3), 0)
    assert authenticated(None, 1)
