"""Password hashes: verifying, and what a check against a stored hash costs."""

from __future__ import annotations

import pytest

from chargestream.domain.passwords import (
    MAX_CHARGE_POINT_PASSWORD,
    MIN_CHARGE_POINT_PASSWORD,
    generate_charge_point_password,
    hash_charge_point_password,
    hash_password,
    iterations,
    verify_basic_password,
    verify_password,
)


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("correct-horse-battery", iterations=1000)
    assert verify_password("correct-horse-battery", stored)
    assert not verify_password("correct-horse-battery!", stored)


def test_the_iterations_of_a_stored_hash_are_what_a_check_costs() -> None:
    assert iterations(hash_password("x" * 16, iterations=1234)) == 1234
    assert iterations(hash_charge_point_password("x" * 16)) == 1


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "md5$1$aa$bb",
        "pbkdf2_sha256$many$aa$bb",
        "pbkdf2_sha256$1$aa",
        "hmac_sha256$aa",
        "hmac_sha256$aa$bb$cc",
    ],
)
def test_a_hash_that_is_not_ours_costs_nothing_and_verifies_nothing(stored: str) -> None:
    assert iterations(stored) == 0
    assert not verify_password("anything", stored)


@pytest.mark.parametrize(
    "stored", ["pbkdf2_sha256$0$aa$bb", "pbkdf2_sha256$10$not-hex$bb", "hmac_sha256$not-hex$bb"]
)
def test_a_broken_hash_of_ours_verifies_nothing(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_a_charge_point_hash_is_salted_and_verifies_its_password_only() -> None:
    first, second = (hash_charge_point_password("machine-secret-16") for _ in range(2))
    assert first != second and first.startswith("hmac_sha256$")
    assert verify_password("machine-secret-16", first) and verify_password(
        b"machine-secret-16", second
    )
    assert not verify_password("machine-secret-17", first)


def test_a_basic_password_is_the_key_as_text_or_the_bytes_of_a_hex_key() -> None:
    key = generate_charge_point_password()
    assert MIN_CHARGE_POINT_PASSWORD <= len(key) <= MAX_CHARGE_POINT_PASSWORD
    stored = hash_charge_point_password(key)
    assert verify_basic_password(key.encode(), stored)
    assert verify_basic_password(bytes.fromhex(key), stored)  # not UTF-8, most likely
    upper = hash_charge_point_password(key.upper())
    assert verify_basic_password(bytes.fromhex(key), upper)
    assert not verify_basic_password(bytes.fromhex(key)[:-1], stored)
    assert not verify_basic_password(b"", stored)
    assert not verify_basic_password(b"\xff\xfe", stored)


def test_hex_bytes_are_not_accepted_for_a_pbkdf2_hash() -> None:
    key = "00112233445566778899aabbccddeeff"
    stored = hash_password(key, iterations=10)
    assert verify_basic_password(key.encode(), stored)
    assert not verify_basic_password(bytes.fromhex(key), stored)


def test_generated_passwords_differ() -> None:
    assert len({generate_charge_point_password() for _ in range(100)}) == 100
