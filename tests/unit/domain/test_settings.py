"""Settings: parsing, errors, and the configuration reference matching the code."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from chargestream.domain.records import RegistrationPolicy
from chargestream.domain.settings import Mode, Settings, SettingsError

DOCS = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CHARGESTREAM_OCPP_PORT": "9100",
            "CHARGESTREAM_LENIENT": "yes",
            "CHARGESTREAM_REGISTRATION_POLICY": "pending",
            "CHARGESTREAM_MODE": "stack",
            "CHARGESTREAM_API_TOKEN": "t0ken",
            "CHARGESTREAM_DATA_DIR": "/var/lib/cs",
        }
    )
    assert settings.ocpp_port == 9100
    assert settings.lenient is True
    assert settings.registration_policy == RegistrationPolicy.PENDING
    assert settings.mode == Mode.STACK
    assert settings.api_token == "t0ken"
    assert settings.data_dir == Path("/var/lib/cs")


def test_flags_override_the_environment() -> None:
    settings = Settings.from_env({"CHARGESTREAM_OCPP_PORT": "9100"}, ocpp_port=9200, api_port=None)
    assert settings.ocpp_port == 9200
    assert settings.api_port == 8080


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHARGESTREAM_OCPP_PORT", "nine"),
        ("CHARGESTREAM_OCPP_PORT", "70000"),
        ("CHARGESTREAM_LENIENT", "maybe"),
        ("CHARGESTREAM_REGISTRATION_POLICY", "sometimes"),
        ("CHARGESTREAM_LOG_SYNC", "always"),
        ("CHARGESTREAM_HEARTBEAT_INTERVAL", "0"),
        ("CHARGESTREAM_KAFKA_DELIVERY_TIMEOUT", "0"),
        ("CHARGESTREAM_WORKER_STALL_AFTER", "-1"),
        ("CHARGESTREAM_SESSION_REFRESH", "-1"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_every_setting_is_documented() -> None:
    documented = DOCS.read_text()
    missing = [
        f.name for f in fields(Settings) if f"`CHARGESTREAM_{f.name.upper()}`" not in documented
    ]
    assert missing == []
