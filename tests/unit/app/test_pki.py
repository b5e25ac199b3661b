"""with_pki: the private CA and server certificate under <data_dir>/pki, made once."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from chargestream.app.pki import certificate_environment, server_names, with_pki
from chargestream.domain.pki import create_ca, issue_server_certificate
from chargestream.domain.settings import Settings, SettingsError

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def names(cert_file: Path) -> set[str]:
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    found = set(alternative.value.get_values_for_type(x509.DNSName))
    return found | {str(a) for a in alternative.value.get_values_for_type(x509.IPAddress)}


def test_first_start_creates_a_private_ca_and_server_certificate(tmp_path: Path) -> None:
    pki = with_pki(Settings(data_dir=tmp_path / "data"), NOW)
    directory = tmp_path / "data" / "pki"
    settings = pki.settings
    assert settings.ca_cert_file == directory / "ca.pem"
    assert settings.ca_key_file == directory / "ca-key.pem"
    assert settings.tls_cert_file == directory / "server.pem"
    assert settings.tls_key_file == directory / "server-key.pem"
    assert settings.tls_client_ca_file == settings.ca_cert_file
    assert len(pki.created) == 2
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.glob("*.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert names(directory / "server.pem") == {"localhost", "127.0.0.1"}


def test_a_second_start_reuses_everything(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = with_pki(settings, NOW)
    kept = {p.name: p.read_bytes() for p in (tmp_path / "pki").glob("*.pem")}
    second = with_pki(settings, NOW + timedelta(days=1))
    assert second.created == () and second.settings == first.settings
    assert {p.name: p.read_bytes() for p in (tmp_path / "pki").glob("*.pem")} == kept


def test_the_server_certificate_is_issued_again_before_it_expires_or_for_a_new_host(
    tmp_path: Path,
) -> None:
    with_pki(Settings(data_dir=tmp_path), NOW)
    ca = (tmp_path / "pki" / "ca.pem").read_bytes()
    renewed = with_pki(Settings(data_dir=tmp_path), NOW + timedelta(days=800))
    assert renewed.created == ("a server certificate for localhost, 127.0.0.1",)
    moved = with_pki(Settings(data_dir=tmp_path, ocpp_host="10.0.0.5"), NOW)
    assert names(tmp_path / "pki" / "server.pem") == {"localhost", "127.0.0.1", "10.0.0.5"}
    assert len(moved.created) == 1
    assert (tmp_path / "pki" / "ca.pem").read_bytes() == ca  # the CA stays


def test_configured_files_are_used_as_they_are(tmp_path: Path) -> None:
    given = {
        "ca_cert_file": tmp_path / "ca.pem",
        "ca_key_file": tmp_path / "ca.key",
        "tls_cert_file": tmp_path / "tls.pem",
        "tls_key_file": tmp_path / "tls.key",
        "tls_client_ca_file": tmp_path / "clients.pem",
    }
    pki = with_pki(Settings(data_dir=tmp_path / "data", **given), NOW)  # type: ignore[arg-type]
    assert pki.created == ()
    assert {name: getattr(pki.settings, name) for name in given} == given
    assert not (tmp_path / "data").exists()  # nothing was made, nothing was read
    assert certificate_environment(pki.settings) == {
        f"CHARGESTREAM_{name.upper()}": str(path) for name, path in given.items()
    }


def test_a_configured_ca_issues_the_server_certificate(tmp_path: Path) -> None:
    ca = create_ca("operator CA", NOW)
    (tmp_path / "ca.pem").write_text(ca.certificate_pem())
    (tmp_path / "ca.key").write_text(ca.key_pem())
    settings = Settings(
        data_dir=tmp_path / "data",
        ca_cert_file=tmp_path / "ca.pem",
        ca_key_file=tmp_path / "ca.key",
    )
    pki = with_pki(settings, NOW)
    assert not (tmp_path / "data" / "pki" / "ca.pem").exists()
    server = x509.load_pem_x509_certificate(pki.settings.tls_cert_file.read_bytes())  # type: ignore[union-attr]
    server.verify_directly_issued_by(ca.certificate)


def test_a_server_certificate_of_another_ca_is_replaced(tmp_path: Path) -> None:
    with_pki(Settings(data_dir=tmp_path), NOW)
    stranger = issue_server_certificate(create_ca("x", NOW), ["localhost", "127.0.0.1"], NOW)
    (tmp_path / "pki" / "server.pem").write_text(stranger.certificate_pem)
    assert len(with_pki(Settings(data_dir=tmp_path), NOW).created) == 1


@pytest.mark.parametrize(
    "half", [{"ca_cert_file": "ca.pem"}, {"tls_key_file": "key.pem"}], ids=["ca", "tls"]
)
def test_a_file_without_its_pair_is_a_settings_error(tmp_path: Path, half: dict) -> None:
    with pytest.raises(SettingsError, match="go together"):
        with_pki(Settings(data_dir=tmp_path, **half), NOW)


def test_an_unusable_ca_stops_the_start_when_it_must_issue(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    (tmp_path / "ca.key").write_text("not a key")
    settings = Settings(
        data_dir=tmp_path, ca_cert_file=tmp_path / "ca.pem", ca_key_file=tmp_path / "ca.key"
    )
    with pytest.raises(SettingsError, match="cannot issue the server certificate"):
        with_pki(settings, NOW)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", ["localhost", "127.0.0.1"]),
        ("0.0.0.0", ["localhost", "127.0.0.1"]),
        ("::", ["localhost", "127.0.0.1"]),
        ("192.0.2.7", ["localhost", "127.0.0.1", "192.0.2.7"]),
        ("csms.example.com", ["localhost", "127.0.0.1", "csms.example.com"]),
    ],
)
def test_server_names(host: str, expected: list[str]) -> None:
    assert server_names(host) == expected


def test_a_data_directory_that_cannot_keep_the_ca_stops_a_tls_listener(tmp_path: Path) -> None:
    occupied = tmp_path / "data"
    occupied.write_text("a file where the data directory should be")
    with pytest.raises(SettingsError, match="cannot keep the CA"):
        with_pki(Settings(data_dir=occupied), NOW)


def test_without_a_tls_listener_an_unwritable_data_directory_means_no_ca(tmp_path: Path) -> None:
    """A gateway with CHARGESTREAM_OCPP_TLS_PORT=0 (Helm without gateway.tls) still starts."""
    occupied = tmp_path / "data"
    occupied.write_text("a file where the data directory should be")
    pki = with_pki(Settings(data_dir=occupied, ocpp_tls_port=0), NOW)
    assert pki.tls is None and pki.created == ()
    assert pki.settings.ca_cert_file is None
