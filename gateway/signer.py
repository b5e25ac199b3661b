"""The CA that signs charge points' CSRs (SignCertificate), loaded and used off the event loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from chargestream.domain.pki import CaUnusable, CertificateAuthority, CsrRejected, load_ca, sign_csr

log = logging.getLogger("chargestream.gateway")


class CertificateSigner:
    """Signs CSRs with the CA given to ``load``; without a usable CA every CSR is rejected."""

    def __init__(self) -> None:
        self._ca: CertificateAuthority | None = None

    async def load(self, cert_file: Path | None, key_file: Path | None) -> bool:
        """Read the CA (in a thread); False, logged, if it cannot be used."""
        self._ca = None
        if cert_file is None or key_file is None:
            return False
        try:
            self._ca = await asyncio.to_thread(_read_ca, cert_file, key_file)
        except (OSError, CaUnusable) as error:
            log.error(
                "ca_unusable",
                extra={"fields": {"cert_file": str(cert_file), "error": str(error)}},
            )
            return False
        return True

    async def sign(self, csr_pem: str, charge_point_id: str, now: datetime) -> str:
        """The chain for the charge point's CSR; CsrRejected (with a reason) otherwise."""
        ca = self._ca
        if ca is None:
            raise CsrRejected("no usable CA is configured")
        return await asyncio.to_thread(sign_csr, ca, csr_pem, charge_point_id, now)


def _read_ca(cert_file: Path, key_file: Path) -> CertificateAuthority:
    return load_ca(cert_file.read_bytes(), key_file.read_bytes())
