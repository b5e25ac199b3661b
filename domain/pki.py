"""The charge point PKI: a private CA, the gateway's server certificate, and CSR signing.

Pure functions over PEM text and ``cryptography`` objects: no files, no clock (callers
pass ``now``), no event loop. Key generation and signing take milliseconds to tens of
milliseconds, so callers on an event loop run them in a thread.

The CA and the server keys are EC P-256 (what the OCPP 1.6 security whitepaper's
ECDSA cipher suites need, and fast to generate). A charge point's CSR
(SignCertificate) may hold an RSA key of 2048 bits or more, or an EC P-256/P-384 key;
its subject common name must be the charge point's id. Whatever a CSR gets wrong
raises ``CsrRejected`` with a short reason that may be logged and shown.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650  # the private CA: 10 years
SERVER_DAYS = 825  # the gateway's server certificate
CLIENT_DAYS = 730  # a charge point certificate (signed CSR or issued for tests and ops)
BACKDATE = timedelta(minutes=5)  # clocks of charge points run a little behind
MAX_CSR_CHARS = 16_384  # the OCPP 1.6 schema allows 5500; nothing real is larger than this
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
EC_CURVES = ("secp256r1", "secp384r1")
CSR_HASHES = ("sha256", "sha384", "sha512")

CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class CsrRejected(ValueError):
    """A CSR that is not signed; ``reason`` says why (safe to log: no key material)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CaUnusable(ValueError):
    """The CA files do not hold a CA certificate and its private key."""


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: CaKey

    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def key_pem(self) -> str:
        return _key_pem(self.key)


@dataclass(frozen=True)
class Issued:
    """A certificate and its new private key, as PEM."""

    certificate_pem: str
    key_pem: str


def create_ca(common_name: str, now: datetime) -> CertificateAuthority:
    """A new self-signed CA (EC P-256, 10 years) that may sign only end-entity certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(certificate, key)


def load_ca(certificate_pem: bytes, key_pem: bytes) -> CertificateAuthority:
    """The CA of two PEM files; CaUnusable unless the key belongs to a CA certificate."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise CaUnusable(f"not a PEM certificate and unencrypted private key ({error})") from None
    if not isinstance(key, CaKey):
        raise CaUnusable("the CA key must be an EC or RSA key")
    if _spki(key.public_key()) != _spki(certificate.public_key()):
        raise CaUnusable("the CA key does not belong to the CA certificate")
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        raise CaUnusable("the CA certificate has no basic constraints") from None
    if not constraints.value.ca:
        raise CaUnusable("the CA certificate is not a CA (basic constraints: CA false)")
    return CertificateAuthority(certificate, key)


def issue_server_certificate(
    ca: CertificateAuthority, names: Sequence[str], now: datetime
) -> Issued:
    """A TLS server certificate for ``names`` (DNS names or IP addresses; the first is the CN)."""
    if not names:
        raise ValueError("a server certificate needs at least one name")
    alternative: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative.append(x509.DNSName(name))
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _leaf(
        ca,
        names[0],
        key.public_key(),
        now,
        SERVER_DAYS,
        ExtendedKeyUsageOID.SERVER_AUTH,
        x509.SubjectAlternativeName(alternative),
    )
    return Issued(_chain(certificate, ca), _key_pem(key))


def issue_client_certificate(
    ca: CertificateAuthority, charge_point_id: str, now: datetime
) -> Issued:
    """A client certificate (profile 3) whose CN is ``charge_point_id``, with a new key."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _leaf(
        ca, charge_point_id, key.public_key(), now, CLIENT_DAYS, ExtendedKeyUsageOID.CLIENT_AUTH
    )
    return Issued(_chain(certificate, ca), _key_pem(key))


def sign_csr(ca: CertificateAuthority, csr_pem: str, charge_point_id: str, now: datetime) -> str:
    """The chain (leaf + CA, PEM) for a charge point's CSR; CsrRejected if it is unfit."""
    if len(csr_pem) > MAX_CSR_CHARS:
        raise CsrRejected(f"CSR larger than {MAX_CSR_CHARS} characters")
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise CsrRejected("not a PEM certificate signing request") from None
    try:
        valid = csr.is_signature_valid
        algorithm = csr.signature_hash_algorithm
    except (ValueError, UnsupportedAlgorithm, InvalidSignature):
        raise CsrRejected("the CSR signature cannot be checked") from None
    if not valid:
        raise CsrRejected("the CSR signature is not valid")
    if algorithm is None or algorithm.name not in CSR_HASHES:
        raise CsrRejected(f"the CSR must be signed with {', '.join(CSR_HASHES)}")
    try:
        public = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CsrRejected("the CSR key cannot be read") from None
    _check_key(public)
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or names[0].value != charge_point_id:
        raise CsrRejected("the CSR subject common name must be the charge point id")
    assert isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    certificate = _leaf(
        ca, charge_point_id, public, now, CLIENT_DAYS, ExtendedKeyUsageOID.CLIENT_AUTH
    )
    return _chain(certificate, ca)


def common_name(certificate: x509.Certificate) -> str | None:
    """The subject's one common name (None: none or several)."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or not isinstance(names[0].value, str):
        return None
    return names[0].value


def _check_key(public: object) -> None:
    if isinstance(public, rsa.RSAPublicKey):
        if not MIN_RSA_BITS <= public.key_size <= MAX_RSA_BITS:
            raise CsrRejected(f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits")
        return
    if isinstance(public, ec.EllipticCurvePublicKey):
        if public.curve.name not in EC_CURVES:
            raise CsrRejected("EC keys must be on P-256 or P-384")
        return
    raise CsrRejected("the CSR key must be RSA or EC")


def _leaf(
    ca: CertificateAuthority,
    common: str,
    public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    now: datetime,
    days: int,
    usage: x509.ObjectIdentifier,
    alternative: x509.SubjectAlternativeName | None = None,
) -> x509.Certificate:
    rsa_key = isinstance(public, rsa.RSAPublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), ca.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=rsa_key,
                data_encipherment=False,
                key_agreement=not rsa_key,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if alternative is not None:
        builder = builder.add_extension(alternative, critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def _chain(certificate: x509.Certificate, ca: CertificateAuthority) -> str:
    leaf = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return leaf + ca.certificate_pem()


def _spki(public: CertificatePublicKeyTypes) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_pem(key: CaKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
