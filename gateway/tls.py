"""The TLS listener's context (security profiles 2 and 3) and the client certificate's name.

TLS 1.2 or newer. For TLS 1.2 the cipher suites are the ones the OCPP 1.6 security
whitepaper names (ECDHE-ECDSA with AES-GCM, and TLS_RSA with AES-GCM for charge points
that have only those) plus their ECDHE-RSA variants for RSA server certificates; TLS 1.3
suites are OpenSSL's (all AEAD). A client certificate is optional at the TLS level and,
when sent, must chain to the client CA; whether one is required is the charge point's
profile, decided at the HTTP handshake (gateway/security.py).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chargestream.domain.settings import SettingsError

TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256 (whitepaper; no forward secrecy)
    "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_256_GCM_SHA384
)
MAX_NAME = 64  # characters of a certificate's common name (the X.509 upper bound)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the server's certificate chain and key, the CA client certificates chain to."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """The listener's context; reads the files (call it off the event loop).

    SettingsError, naming the files, when they cannot be used.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(":".join(TLS12_CIPHERS))
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= ssl.OP_NO_RENEGOTIATION
    try:
        context.load_cert_chain(files.cert_file, files.key_file)
    except (OSError, ssl.SSLError) as error:
        raise SettingsError(
            f"{files.cert_file}, {files.key_file}: not a usable certificate chain and key ({error})"
        ) from None
    try:
        context.load_verify_locations(cafile=files.client_ca_file)
    except (OSError, ssl.SSLError) as error:
        raise SettingsError(f"{files.client_ca_file}: not a usable client CA ({error})") from None
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def peer_common_name(ssl_object: Any) -> str | None:
    """The subject common name of the verified client certificate (None: none, or not one CN).

    ``ssl_object`` is the transport's ``ssl_object`` extra (None on the plain listener).
    """
    if ssl_object is None:
        return None
    certificate = ssl_object.getpeercert()
    if not certificate:
        return None
    names = [
        value
        for entry in certificate.get("subject", ())
        for key, value in entry
        if key == "commonName"
    ]
    if len(names) != 1 or not isinstance(names[0], str) or len(names[0]) > MAX_NAME:
        return None
    return names[0]
