"""Password hashes: verifying, and what a check against a stored hash costs."""

from __future__ import annotations

import pytest

from chargestream.domain.passwords import hash_password, iterations, verify_password


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("correct-horse-battery", iterations=1000)
    assert verify_password("correct-horse-battery", stored)
    assert not verify_password("correct-horse-battery!", stored)


def test_the_iterations_of_a_stored_hash_are_what_a_check_costs() -> None:
    assert iterations(hash_password("x" * 16, iterations=1234)) == 1234


@pytest.mark.parametrize(
    "stored", ["", "plain", "md5$1$aa$bb", "pbkdf2_sha256$many$aa$bb", "pbkdf2_sha256$1$aa"]
)
def test_a_hash_that_is_not_ours_costs_nothing_and_verifies_nothing(stored: str) -> None:
    assert iterations(stored) == 0
    assert not verify_password("anything", stored)


@pytest.mark.parametrize("stored", ["pbkdf2_sha256$0$aa$bb", "pbkdf2_sha256$10$not-hex$bb"])
def test_a_broken_hash_of_ours_verifies_nothing(stored: str) -> None:
    assert not verify_password("anything", stored)
