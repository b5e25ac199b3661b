"""The TLS listener's context: what it accepts, and what it says about unusable files."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargestream.domain.pki import create_ca, issue_server_certificate
from chargestream.domain.settings import SettingsError
from chargestream.gateway.tls import TlsFiles, peer_common_name, server_context


def test_the_context_speaks_tls_1_2_and_up_and_asks_for_an_optional_client_certificate(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    ca = create_ca("test CA", now)
    server = issue_server_certificate(ca, ["localhost"], now)
    (tmp_path / "server.pem").write_text(server.certificate_pem)
    (tmp_path / "server-key.pem").write_text(server.key_pem)
    (tmp_path / "ca.pem").write_text(ca.certificate_pem())
    context = server_context(
        TlsFiles(tmp_path / "server.pem", tmp_path / "server-key.pem", tmp_path / "ca.pem")
    )
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_OPTIONAL
    tls12 = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12 == {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    }


def test_unusable_files_are_a_settings_error_naming_them(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    files = TlsFiles(tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem")
    with pytest.raises(SettingsError, match=r"cert\.pem"):
        server_context(files)


class FakeSslObject:
    def __init__(self, certificate: dict | None) -> None:
        self.certificate = certificate

    def getpeercert(self) -> dict | None:
        return self.certificate


@pytest.mark.parametrize(
    ("certificate", "name"),
    [
        (None, None),
        ({}, None),
        ({"subject": ((("countryName", "PT"),), (("commonName", "CP-1"),))}, "CP-1"),
        ({"subject": ((("commonName", "CP-1"),), (("commonName", "CP-2"),))}, None),
        ({"subject": ((("commonName", "X" * 65),),)}, None),
    ],
    ids=["none", "unverified", "one", "two", "too-long"],
)
def test_peer_common_name(certificate: dict | None, name: str | None) -> None:
    assert peer_common_name(FakeSslObject(certificate)) == name
    assert peer_common_name(None) is None
