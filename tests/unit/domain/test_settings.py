"""Settings: parsing, errors, and the configuration reference matching the code."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from chargestream.domain.protocols import OcppVersion
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
            "CHARGESTREAM_API_TOKEN": "t0ken-of-16-chars",
            "CHARGESTREAM_OCPP_HOST": "0.0.0.0",
            "CHARGESTREAM_DATA_DIR": "/var/lib/cs",
        }
    )
    assert settings.ocpp_port == 9100
    assert settings.lenient is True
    assert settings.registration_policy == RegistrationPolicy.PENDING
    assert settings.mode == Mode.STACK
    assert settings.api_token == "t0ken-of-16-chars"
    assert settings.ocpp_host == "0.0.0.0"
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
        ("CHARGESTREAM_FTP_PORT", "65536"),
        ("CHARGESTREAM_FTP_HOST", " "),
        ("CHARGESTREAM_FTP_URL", "http://csms.example"),
        ("CHARGESTREAM_FTP_URL", "ftp://user:secret@csms.example"),
        ("CHARGESTREAM_FTP_URL", "ftp://csms.example/diagnostics"),
        ("CHARGESTREAM_FTP_PASSIVE_PORTS", "30010-30000"),
        ("CHARGESTREAM_FTP_PASSIVE_PORTS", "30000"),
        ("CHARGESTREAM_DIAGNOSTICS_PROTOCOL", "sftp"),
        ("CHARGESTREAM_DIAGNOSTICS_RETENTION_DAYS", "-1"),
        ("CHARGESTREAM_DIAGNOSTICS_RETENTION_DAYS", "1"),  # not beyond the 24 h upload TTL
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_ftp_settings_have_sane_defaults_and_a_passive_port_range() -> None:
    defaults = Settings()
    assert (defaults.ftp_port, defaults.diagnostics_protocol) == (2121, "http")
    assert defaults.diagnostics_retention_days == 30 and defaults.passive_ports() is None
    settings = Settings.from_env(
        {
            "CHARGESTREAM_FTP_PASSIVE_PORTS": "30000 - 30009",
            "CHARGESTREAM_FTP_URL": "ftp://csms.example:21",
            "CHARGESTREAM_FTP_PORT": "0",
        }
    )
    assert settings.passive_ports() == range(30000, 30010) and settings.ftp_port == 0


def test_every_listener_defaults_to_loopback_and_has_its_own_address() -> None:
    defaults = Settings()
    hosts = ("ocpp_host", "api_host", "ui_host", "health_host", "ftp_host")
    assert {getattr(defaults, host) for host in hosts} == {"127.0.0.1"}
    settings = Settings.from_env(
        {"CHARGESTREAM_OCPP_HOST": "0.0.0.0", "CHARGESTREAM_UI_HOST": "::1"}, api_host="10.0.0.5"
    )
    assert (settings.ocpp_host, settings.api_host, settings.ui_host, settings.health_host) == (
        "0.0.0.0",
        "10.0.0.5",
        "::1",
        "127.0.0.1",
    )
    with pytest.raises(SettingsError, match=r"CHARGESTREAM_API_HOST=' ': use an address"):
        Settings(api_host=" ")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("short-token", "has 11 characters: use at least 16"),
        ("sixteen chars ok", "visible ASCII"),
        ("sixteen-chars-\u00e9k", "visible ASCII"),
        ("sixteen-chars-\tok", "visible ASCII"),
    ],
)
def test_a_weak_or_unsendable_api_token_is_refused_without_showing_it(
    token: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.from_env({"CHARGESTREAM_API_TOKEN": token})
    assert token not in str(refused.value)


def test_an_empty_api_token_variable_means_none_is_set() -> None:
    assert Settings.from_env({"CHARGESTREAM_API_TOKEN": ""}).api_token is None


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = Settings(
        api_token="api-token-0123456789",
        kafka_sasl_password="kafka-password",
        cassandra_password="cassandra-password",
    )
    for secret in ("api-token-0123456789", "kafka-password", "cassandra-password"):
        assert secret not in repr(settings)


def test_every_setting_is_documented() -> None:
    documented = DOCS.read_text()
    missing = [
        f.name for f in fields(Settings) if f"`CHARGESTREAM_{f.name.upper()}`" not in documented
    ]
    assert missing == []


def test_ocpp_versions_are_served_in_the_order_given_and_checked() -> None:
    assert Settings().served_versions == (OcppVersion.V201, OcppVersion.V16)
    only = Settings.from_env({"CHARGESTREAM_OCPP_VERSIONS": " ocpp1.6 "})
    assert only.served_versions == (OcppVersion.V16,)
    for wrong in ("ocpp2.1", "", " , "):
        with pytest.raises(SettingsError, match="OCPP_VERSIONS"):
            Settings(ocpp_versions=wrong)


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [  # one row per kind of setting: enum, choice, int, float, bool, port, limit, address, URL
        ("CHARGESTREAM_MODE", "stak", "use embedded or stack"),
        ("CHARGESTREAM_REGISTRATION_POLICY", "sometimes", "use accept, pending or reject"),
        ("CHARGESTREAM_LOG_LEVEL", "verbose", "use DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("CHARGESTREAM_LOG_FORMAT", "xml", "use json or text"),
        ("CHARGESTREAM_LOG_SYNC", "always", "use full or normal"),
        (
            "CHARGESTREAM_KAFKA_SECURITY_PROTOCOL",
            "TLS",
            "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
        ),
        ("CHARGESTREAM_HEARTBEAT_INTERVAL", "often", "use a whole number"),
        ("CHARGESTREAM_COMMAND_TIMEOUT", "soon", "use a number"),
        ("CHARGESTREAM_HEARTBEAT_INTERVAL", "0", "use a number above 0"),
        ("CHARGESTREAM_LENIENT", "maybe", "use true or false"),
        ("CHARGESTREAM_API_PORT", "70000", "use a TCP port, 0 to 65535"),
        ("CHARGESTREAM_MAX_CONNECTIONS", "-1", "use 0 (off) or more"),
        ("CHARGESTREAM_DEFAULT_SECURITY_PROFILE", "4", "use 0 to 3"),
        ("CHARGESTREAM_UI_HOST", " ", "use an address"),
        ("CHARGESTREAM_UPLOAD_URL", "ftp://x", "use an http(s):// URL"),
        ("CHARGESTREAM_OCPP_VERSIONS", "ocpp2.1", "use some of ocpp1.6, ocpp2.0.1"),
    ],
)
def test_every_kind_of_bad_value_names_the_setting_the_value_and_the_valid_values(
    name: str, value: str, valid: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({name: value})
    assert f"{name}={value!r}" in str(refused.value) or f"{name}={value}:" in str(refused.value)
    assert valid in str(refused.value)


def test_log_levels_are_accepted_in_any_case() -> None:
    assert Settings.from_env({"CHARGESTREAM_LOG_LEVEL": "debug"}).log_level == "DEBUG"


def test_settings_given_as_strings_become_their_types() -> None:
    settings = Settings(mode="stack", registration_policy="reject")  # type: ignore[arg-type]
    assert (settings.mode, settings.registration_policy) == (Mode.STACK, RegistrationPolicy.REJECT)
