"""The PKI: a private CA, server and client certificates, and which CSRs get signed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from chargestream.domain.pki import (
    CaUnusable,
    CsrRejected,
    common_name,
    create_ca,
    issue_client_certificate,
    issue_server_certificate,
    load_ca,
    sign_csr,
)
from tests.certificates import chain_verifies, make_csr

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca():
    return create_ca("chargestream test CA", NOW)


def test_ca_is_a_ten_year_ca_that_loads_from_its_pem(ca) -> None:
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca
    assert ca.certificate.not_valid_after_utc - NOW >= timedelta(days=3650)
    loaded = load_ca(ca.certificate_pem().encode(), ca.key_pem().encode())
    assert loaded.certificate == ca.certificate


def test_load_ca_refuses_a_key_of_another_ca_and_garbage(ca) -> None:
    other = create_ca("other", NOW)
    with pytest.raises(CaUnusable, match="does not belong"):
        load_ca(ca.certificate_pem().encode(), other.key_pem().encode())
    with pytest.raises(CaUnusable):
        load_ca(b"not pem", b"not pem")


def test_load_ca_refuses_a_leaf_certificate(ca) -> None:
    leaf = issue_client_certificate(ca, "CP-1", NOW)
    with pytest.raises(CaUnusable, match="not a CA"):
        load_ca(leaf.certificate_pem.encode(), leaf.key_pem.encode())


def test_server_certificate_names_dns_and_ip_and_chains_to_the_ca(ca) -> None:
    issued = issue_server_certificate(ca, ["localhost", "127.0.0.1"], NOW)
    leaf = chain_verifies(issued.certificate_pem, ca.certificate_pem())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    assert "PRIVATE KEY" in issued.key_pem


def test_client_certificate_has_the_charge_point_id_as_cn(ca) -> None:
    issued = issue_client_certificate(ca, "CP-7", NOW)
    leaf = chain_verifies(issued.certificate_pem, ca.certificate_pem())
    assert common_name(leaf) == "CP-7"
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        rsa.generate_private_key(65537, 2048),
    ],
    ids=["P-256", "P-384", "RSA-2048"],
)
def test_sign_csr_returns_a_chain_to_the_ca_for_the_charge_point(ca, key) -> None:
    csr, _ = make_csr("CP-1", key)
    chain = sign_csr(ca, csr, "CP-1", NOW)
    certificates = x509.load_pem_x509_certificates(chain.encode())
    assert len(certificates) == 2 and certificates[1] == ca.certificate
    leaf = chain_verifies(chain, ca.certificate_pem())
    assert common_name(leaf) == "CP-1"
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert leaf.not_valid_before_utc <= NOW < leaf.not_valid_after_utc


def rejected(ca, csr: str, charge_point_id: str = "CP-1") -> str:
    with pytest.raises(CsrRejected) as caught:
        sign_csr(ca, csr, charge_point_id, NOW)
    return caught.value.reason


def test_sign_csr_refuses_another_charge_points_cn(ca) -> None:
    csr, _ = make_csr("CP-2")
    assert "common name" in rejected(ca, csr)


def test_sign_csr_refuses_garbage_and_oversized_text(ca) -> None:
    assert "PEM" in rejected(ca, "garbage")
    assert "PEM" in rejected(ca, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END")
    assert "larger" in rejected(ca, "A" * 20_000)
    assert "PEM" in rejected(ca, "é" * 10)


def test_sign_csr_refuses_small_rsa_keys_and_other_curves(ca) -> None:
    small, _ = make_csr("CP-1", rsa.generate_private_key(65537, 1024))
    assert "RSA" in rejected(ca, small)
    curve, _ = make_csr("CP-1", ec.generate_private_key(ec.SECP521R1()))
    assert "P-256" in rejected(ca, curve)


def test_sign_csr_refuses_a_weak_hash(ca) -> None:
    csr, _ = make_csr("CP-1", rsa.generate_private_key(65537, 2048), hashes.SHA224())
    assert "signed with" in rejected(ca, csr)


def test_sign_csr_refuses_a_tampered_signature(ca) -> None:
    csr, _ = make_csr("CP-1")
    der = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # a bit of the signature's last bytes
    body = base64.encodebytes(bytes(der)).decode()
    pem = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"
    assert "signature" in rejected(ca, pem)
