"""OCPP's way of writing a time: one formatter for every time the CSMS sends."""

from __future__ import annotations

from datetime import UTC, datetime


def ocpp_time(moment: datetime) -> str:
    """UTC, milliseconds, ending in Z (some chargers reject '+00:00')."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
