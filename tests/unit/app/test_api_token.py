"""The generated API token: made once, kept 0600 on one line, reused, never in a log."""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from pathlib import Path

import pytest

from chargestream.app import api_token
from chargestream.app.api_token import with_api_token
from chargestream.domain.settings import Settings, SettingsError


def settings(data_dir: Path, **values: object) -> Settings:
    return Settings(data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_the_first_start_creates_a_strong_token_in_a_private_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = with_api_token(settings(data_dir))
    token = first.settings.api_token
    assert first.created and first.path == data_dir / "api-token"
    assert token is not None and len(token) == 43
    assert (data_dir / "api-token").read_text() == token + "\n"
    assert stat.S_IMODE((data_dir / "api-token").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert os.listdir(data_dir) == ["api-token"]  # no temporary file left

    again = with_api_token(settings(data_dir))
    assert (again.settings.api_token, again.created) == (token, False)
    assert with_api_token(settings(tmp_path / "other")).settings.api_token != token


def test_a_configured_token_wins_and_touches_no_file(tmp_path: Path) -> None:
    configured = with_api_token(settings(tmp_path, api_token="configured-token-0123"))
    assert configured.settings.api_token == "configured-token-0123"
    assert (configured.path, configured.created) == (None, False)
    assert list(tmp_path.iterdir()) == []


def test_a_token_kept_meanwhile_by_another_process_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two starts at once: the one that links second takes the first one's token."""
    kept = "kept-by-the-other-start-0123456789"
    real_link = os.link

    def other_start_first(source: str, target: Path) -> None:
        Path(target).write_text(kept + "\n")
        real_link(source, target)  # raises FileExistsError, as in the race

    monkeypatch.setattr(api_token.os, "link", other_start_first)
    result = with_api_token(settings(tmp_path))
    assert (result.settings.api_token, result.created) == (kept, False)
    assert sorted(os.listdir(tmp_path)) == ["api-token"]


@pytest.mark.parametrize("content", ["", "\n", "short\n", "has spaces in the token\n"])
def test_an_unusable_kept_token_is_an_error_that_does_not_show_it(
    tmp_path: Path, content: str
) -> None:
    (tmp_path / "api-token").write_text(content)
    with pytest.raises(SettingsError, match="delete it to get a new one") as refused:
        with_api_token(settings(tmp_path))
    if content.strip():
        assert content.strip() not in str(refused.value)


def test_a_kept_file_readable_by_others_is_narrowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "api-token"
    path.write_text("kept-token-0123456789abc\n")
    path.chmod(0o644)
    with caplog.at_level(logging.INFO, logger="chargestream"):
        result = with_api_token(settings(tmp_path))
    assert result.settings.api_token == "kept-token-0123456789abc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "api_token_file_narrowed" in caplog.text


def test_announce_prints_a_new_token_once_and_logs_only_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        created = with_api_token(settings(tmp_path))
        created.announce()
        kept = with_api_token(settings(tmp_path))
        kept.announce()
        with_api_token(dataclasses.replace(kept.settings)).announce()  # configured: silent
    token = created.settings.api_token
    assert token is not None
    out = capsys.readouterr().out
    assert out.count(token) == 1 and "shown once" in out
    assert token not in caplog.text
    events = [(r.getMessage(), r.fields) for r in caplog.records]  # type: ignore[attr-defined]
    file = str(tmp_path / "api-token")
    assert events == [
        ("api_token", {"file": file, "created": True}),
        ("api_token", {"file": file, "created": False}),
    ]
