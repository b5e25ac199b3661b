"""The one-time upload token and the charge point's file name as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargestream.domain.diagnostics import (
    DEFAULT_FILE_NAME,
    DiagnosticsFile,
    display_name,
    ftp_credentials,
    mint_token,
    new_grant,
    older_than,
    read_token,
    token_from_credentials,
    upload_key,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = upload_key("test-api-token-0123456789")


def test_a_token_carries_its_grant_until_it_expires() -> None:
    grant = new_grant("CP/ü 1", NOW, 3600)
    token = mint_token(KEY, grant)
    assert read_token(KEY, token, NOW) == grant
    assert read_token(KEY, token, NOW + timedelta(seconds=3599)) == grant
    assert read_token(KEY, token, NOW + timedelta(seconds=3600)) is None
    assert "/" not in token and "?" not in token and "#" not in token


def test_grants_differ_and_tokens_of_another_key_or_altered_are_refused() -> None:
    first, second = new_grant("CP-1", NOW, 60), new_grant("CP-1", NOW, 60)
    assert first.file_id != second.file_id
    token = mint_token(KEY, first)
    assert read_token(upload_key("another-api-token-000000"), token, NOW) is None
    payload, mac = token.split(".")
    other = mint_token(KEY, new_grant("CP-2", NOW, 60)).split(".")[0]
    for bad in (f"{other}.{mac}", f"{payload}.{mac[:-1]}", payload, "", "x" * 5000, "a.b.c"):
        assert read_token(KEY, bad, NOW) is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("diag.tar.gz", "diag.tar.gz"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ('a"b\r\nc\x00.log', "a_b__c_.log"),
        ("..", DEFAULT_FILE_NAME),
        (".hidden", "hidden"),
        ("", DEFAULT_FILE_NAME),
        (None, DEFAULT_FILE_NAME),
        ("x" * 1000, "x" * 255),
        ("\ud800.log", "?.log"),
    ],
)
def test_file_names_become_harmless_text(raw: str | None, shown: str) -> None:
    assert display_name(raw) == shown


def test_ftp_credentials_are_the_token_and_fit_in_a_url() -> None:
    grant = new_grant("CP/ü 1", NOW, 60)
    user, password = ftp_credentials(mint_token(KEY, grant))
    assert read_token(KEY, token_from_credentials(user, password), NOW) == grant
    unsafe = set(":@/?#%.") | {" "}
    assert not unsafe & set(user + password)
    other = "B" if password[5] == "A" else "A"  # a middle character: all its bits count
    assert (
        read_token(KEY, token_from_credentials(user, password[:5] + other + password[6:]), NOW)
        is None
    )
    assert read_token(KEY, token_from_credentials(user + ".x", password), NOW) is None


@pytest.mark.parametrize(
    ("age", "days", "expired"),
    [
        (timedelta(days=30, seconds=1), 30, True),
        (timedelta(days=30), 30, False),
        (timedelta(days=400), 0, False),  # 0: kept forever
    ],
)
def test_retention_passes_after_its_days(age: timedelta, days: int, expired: bool) -> None:
    record = DiagnosticsFile("CP-1", "1" * 32, "a.log", 1, "0" * 64, NOW - age)
    assert older_than(record, NOW, days) is expired
