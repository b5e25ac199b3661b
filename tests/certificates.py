"""Certificate signing requests as a charge point makes them, for PKI and gateway tests."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def make_csr(
    common_name: str,
    key: PrivateKey | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> tuple[str, PrivateKey]:
    """(CSR PEM, its key): subject CN ``common_name``, an EC P-256 key unless given."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, algorithm or hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii"), key


def chain_verifies(chain_pem: str, ca_pem: str) -> x509.Certificate:
    """The leaf of ``chain_pem`` after checking it was signed by the CA; raises otherwise."""
    certificates = x509.load_pem_x509_certificates(chain_pem.encode())
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    leaf = certificates[0]
    leaf.verify_directly_issued_by(ca)
    return leaf
