"""Request bodies: times without a zone are UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from chargestream.api.schemas import IdTagIn, as_utc


def test_a_naive_time_is_taken_as_utc() -> None:
    assert as_utc(datetime(2030, 1, 1, 12)) == datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert as_utc(datetime(2030, 1, 1, 12)).tzinfo is UTC


def test_a_zoned_time_is_converted_to_utc() -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    moment = as_utc(datetime(2030, 7, 1, 12, tzinfo=lisbon_summer))
    assert (moment.hour, moment.tzinfo) == (11, UTC)


def test_an_id_tag_expiry_is_stored_in_utc() -> None:
    parsed = IdTagIn.model_validate({"expiry_date": "2030-01-01T02:00:00+02:00"})
    assert parsed.expiry_date == datetime(2030, 1, 1, tzinfo=UTC)
    assert parsed.expiry_date is not None and parsed.expiry_date.tzinfo is UTC
    assert IdTagIn().expiry_date is None
