"""Security profiles 2 and 3 over real TLS connections, and SignCertificate end to end."""

from __future__ import annotations

import ssl
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp import v201
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from chargestream.app.embedded import EmbeddedCsms
from chargestream.domain.pki import (
    CertificateAuthority,
    issue_client_certificate,
    load_ca,
)
from chargestream.gateway.tls import TLS12_CIPHERS
from tests.certificates import chain_verifies, make_csr
from tests.conftest import eventually, make_settings
from tests.ocpp_client import boot_station, charge_point, charging_station

PASSWORD = "s3cret-password-16"


@dataclass
class TlsCsms:
    app: EmbeddedCsms
    ws_url: str
    wss_url: str
    api: httpx.AsyncClient
    pki: Path
    tmp: Path

    @property
    def ca(self) -> CertificateAuthority:
        return load_ca((self.pki / "ca.pem").read_bytes(), (self.pki / "ca-key.pem").read_bytes())

    def client(self, certificate_for: str | None = None) -> ssl.SSLContext:
        """A charge point's TLS context: trusts the CA; with a client certificate if asked."""
        context = ssl.create_default_context(cafile=self.pki / "ca.pem")
        if certificate_for is not None:
            issued = issue_client_certificate(self.ca, certificate_for, datetime.now(UTC))
            self.use_certificate(context, issued.certificate_pem, issued.key_pem)
        return context

    def use_certificate(self, context: ssl.SSLContext, chain: str, key: str) -> None:
        cert_file, key_file = self.tmp / "client.pem", self.tmp / "client-key.pem"
        cert_file.write_text(chain)
        key_file.write_text(key)
        context.load_cert_chain(cert_file, key_file)

    async def register(self, charge_point_id: str, **fields: object) -> httpx.Response:
        return await self.api.put(f"/api/v1/charge-points/{charge_point_id}", json=fields)


@pytest.fixture
async def tls_csms(tmp_path: Path) -> AsyncIterator[TlsCsms]:
    settings = make_settings(tmp_path / "data")
    app = EmbeddedCsms(settings)
    addresses = await app.start(tls_port=0)
    assert addresses.ocpp_tls_port
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{addresses.api_port}",
        headers={"Authorization": f"Bearer {settings.api_token}"},
        timeout=30,
    ) as api:
        yield TlsCsms(
            app,
            f"ws://127.0.0.1:{addresses.ocpp_port}/ocpp",
            f"wss://127.0.0.1:{addresses.ocpp_tls_port}/ocpp",
            api,
            settings.data_dir / "pki",
            tmp_path,
        )
    await app.stop()


async def boot_status(cp) -> str:
    result = await cp.call(
        call.BootNotification(charge_point_model="T54", charge_point_vendor="ABB")
    )
    return str(result.status)


async def refused_status(
    url: str, charge_point_id: str, client: Any = charge_point, **options: object
) -> int:
    """``client``: ``charge_point`` (1.6) or ``charging_station`` (2.0.1)."""
    with pytest.raises(InvalidStatus) as refused:
        async with client(url, charge_point_id, **options):
            pass
    return refused.value.response.status_code


# -- profile 2


async def test_profile_2_is_accepted_over_wss_with_its_password_and_refused_over_ws(
    tls_csms: TlsCsms,
) -> None:
    registered = await tls_csms.register("CP-2", password=PASSWORD, security_profile=2)
    assert registered.json()["security_profile"] == 2
    async with charge_point(
        tls_csms.wss_url, "CP-2", password=PASSWORD, tls=tls_csms.client()
    ) as cp:
        assert await boot_status(cp) == "Accepted"
    # the same charge point over plain ws: no downgrade, the password is not even checked
    assert await refused_status(tls_csms.ws_url, "CP-2", password=PASSWORD) == 403
    assert await refused_status(tls_csms.wss_url, "CP-2", tls=tls_csms.client()) == 401
    wrong = {"password": "wrong-password-16", "tls": tls_csms.client()}
    assert await refused_status(tls_csms.wss_url, "CP-2", **wrong) == 401


async def test_profile_2_without_a_password_set_is_refused(tls_csms: TlsCsms) -> None:
    await tls_csms.register("CP-NOPW", security_profile=2)
    status = await refused_status(
        tls_csms.wss_url, "CP-NOPW", password=PASSWORD, tls=tls_csms.client()
    )
    assert status == 401


async def test_a_profile_0_charge_point_may_use_either_listener(tls_csms: TlsCsms) -> None:
    async with charge_point(tls_csms.wss_url, "CP-0", tls=tls_csms.client()) as cp:
        assert await boot_status(cp) == "Accepted"
    async with charge_point(tls_csms.ws_url, "CP-0") as cp:
        assert await boot_status(cp) == "Accepted"


async def test_profiles_2_and_3_check_a_201_station_the_same_way(tls_csms: TlsCsms) -> None:
    await tls_csms.register("CS-2", password=PASSWORD, security_profile=2)
    tls = tls_csms.client()
    async with charging_station(tls_csms.wss_url, "CS-2", password=PASSWORD, tls=tls) as station:
        assert await boot_station(station) == "Accepted"
    station = charging_station
    assert await refused_status(tls_csms.ws_url, "CS-2", station, password=PASSWORD) == 403
    wrong = {"password": "wrong-password-16", "tls": tls_csms.client()}
    assert await refused_status(tls_csms.wss_url, "CS-2", station, **wrong) == 401
    await tls_csms.register("CS-3", security_profile=3)
    async with charging_station(tls_csms.wss_url, "CS-3", tls=tls_csms.client("CS-3")) as station_3:
        assert await boot_station(station_3) == "Accepted"
    assert await refused_status(tls_csms.wss_url, "CS-3", station, tls=tls_csms.client()) == 401


# -- profile 3


async def test_profile_3_is_accepted_with_its_own_client_certificate(tls_csms: TlsCsms) -> None:
    await tls_csms.register("CP-3", security_profile=3)
    async with charge_point(tls_csms.wss_url, "CP-3", tls=tls_csms.client("CP-3")) as cp:
        assert await boot_status(cp) == "Accepted"


async def test_profile_3_refuses_another_charge_points_certificate_and_none(
    tls_csms: TlsCsms,
) -> None:
    await tls_csms.register("CP-3", security_profile=3)
    other = tls_csms.client("CP-OTHER")
    assert await refused_status(tls_csms.wss_url, "CP-3", tls=other) == 403
    assert await refused_status(tls_csms.wss_url, "CP-3", tls=tls_csms.client()) == 401
    assert await refused_status(tls_csms.ws_url, "CP-3") == 403


async def test_profile_3_with_a_password_set_checks_one_that_is_sent(tls_csms: TlsCsms) -> None:
    await tls_csms.register("CP-3", security_profile=3, password=PASSWORD)
    own = tls_csms.client("CP-3")
    async with charge_point(tls_csms.wss_url, "CP-3", tls=own) as cp:  # not required
        assert await boot_status(cp) == "Accepted"
    wrong = {"password": "wrong-password-16", "tls": own}
    assert await refused_status(tls_csms.wss_url, "CP-3", **wrong) == 401


async def test_certificate_failures_count_toward_the_address_limit(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data", auth_failures_per_minute=2, default_security_profile=3
    )
    app = EmbeddedCsms(settings)
    addresses = await app.start(tls_port=0)
    try:
        url = f"wss://127.0.0.1:{addresses.ocpp_tls_port}/ocpp"
        context = ssl.create_default_context(cafile=settings.data_dir / "pki" / "ca.pem")
        statuses = [await refused_status(url, "CP-3", tls=context) for _ in range(3)]
    finally:
        await app.stop()
    assert statuses == [401, 401, 429]


async def test_a_certificate_from_another_ca_fails_the_tls_handshake(tls_csms: TlsCsms) -> None:
    from chargestream.domain.pki import create_ca

    stranger = create_ca("someone else", datetime.now(UTC))
    issued = issue_client_certificate(stranger, "CP-3", datetime.now(UTC))
    context = tls_csms.client()
    tls_csms.use_certificate(context, issued.certificate_pem, issued.key_pem)
    await tls_csms.register("CP-3", security_profile=3)
    # TLS 1.3: the client finds out when the server closes instead of answering
    with pytest.raises((ssl.SSLError, ConnectionError, InvalidMessage)):
        async with charge_point(tls_csms.wss_url, "CP-3", tls=context):
            pass


# -- TLS versions and ciphers


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
async def test_tls_1_1_is_refused(tls_csms: TlsCsms) -> None:
    context = tls_csms.client()
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # this client would speak TLS 1.1
    # the server's alert or a reset, depending on timing; TLS 1.2 works (the next test)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        async with connect(f"{tls_csms.wss_url}/CP-1", subprotocols=["ocpp1.6"], ssl=context):
            pass


async def test_tls_1_2_uses_a_cipher_suite_of_the_whitepaper(tls_csms: TlsCsms) -> None:
    context = tls_csms.client()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    async with connect(
        f"{tls_csms.wss_url}/CP-1", subprotocols=["ocpp1.6"], ssl=context
    ) as websocket:
        name, version, _ = websocket.transport.get_extra_info("cipher")
    assert version == "TLSv1.2" and name in TLS12_CIPHERS


# -- SignCertificate


async def test_sign_certificate_accepted_then_certificate_signed_chains_to_the_ca(
    tls_csms: TlsCsms,
) -> None:
    await tls_csms.register("CP-S", password=PASSWORD, security_profile=2)
    csr, key = make_csr("CP-S")
    async with charge_point(
        tls_csms.wss_url, "CP-S", password=PASSWORD, tls=tls_csms.client()
    ) as cp:
        await boot_status(cp)
        answer = await cp.call(call.SignCertificate(csr=csr))
        assert answer.status == "Accepted"

        async def delivered() -> list:
            return [p for action, p in cp.received if action == "CertificateSigned"]

        (signed,) = await eventually(delivered)
    chain = signed["certificate_chain"]
    ca_pem = (tls_csms.pki / "ca.pem").read_text()
    leaf = chain_verifies(chain, ca_pem)
    assert leaf.subject.rfc4514_string() == "CN=CP-S"

    async def logged() -> list:
        response = await tls_csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-S"})
        return [c for c in response.json() if c["outcome"] is not None]

    (command,) = await eventually(logged)
    assert (command["action"], command["sent_by"], command["outcome"]) == (
        "CertificateSigned",
        "csms",
        "answered",
    )

    # the signed certificate is the charge point's key to profile 3
    from cryptography.hazmat.primitives import serialization

    await tls_csms.register("CP-S", security_profile=3)
    context = tls_csms.client()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    tls_csms.use_certificate(context, chain, key_pem)
    async with charge_point(tls_csms.wss_url, "CP-S", tls=context) as cp:
        assert await boot_status(cp) == "Accepted"


async def test_a_201_station_gets_its_csr_signed_by_the_same_ca(tls_csms: TlsCsms) -> None:
    await tls_csms.register("CS-S", password=PASSWORD, security_profile=2)
    csr, _ = make_csr("CS-S")
    tls = tls_csms.client()
    async with charging_station(tls_csms.wss_url, "CS-S", password=PASSWORD, tls=tls) as station:
        await boot_station(station)
        answer = await station.call(
            v201.call.SignCertificate(csr=csr, certificate_type="ChargingStationCertificate")
        )
        assert answer.status == "Accepted"

        async def delivered() -> list:
            return [p for action, p in station.received if action == "CertificateSigned"]

        (signed,) = await eventually(delivered)
    leaf = chain_verifies(signed["certificate_chain"], (tls_csms.pki / "ca.pem").read_text())
    assert leaf.subject.rfc4514_string() == "CN=CS-S"


@pytest.mark.parametrize(
    "csr", [make_csr("CP-OTHER")[0], "-----BEGIN CERTIFICATE REQUEST-----\ngarbage"]
)
async def test_sign_certificate_with_an_unfit_csr_is_rejected(tls_csms: TlsCsms, csr: str) -> None:
    async with charge_point(tls_csms.ws_url, "CP-S") as cp:
        answer = await cp.call(call.SignCertificate(csr=csr))
    assert answer.status == "Rejected"
    response = await tls_csms.api.get("/api/v1/commands", params={"charge_point_id": "CP-S"})
    assert response.json() == []


async def test_sign_certificate_is_rejected_for_a_charge_point_without_authentication(
    tls_csms: TlsCsms,
) -> None:
    async with charge_point(tls_csms.ws_url, "CP-ANON") as cp:  # profile 0: anyone
        answer = await cp.call(call.SignCertificate(csr=make_csr("CP-ANON")[0]))
    assert answer.status == "Rejected"


# -- the API and first start


async def test_security_profile_outside_0_to_3_is_422(tls_csms: TlsCsms) -> None:
    assert (await tls_csms.register("CP-1", security_profile=5)).status_code == 422
    assert (await tls_csms.register("CP-1", security_profile=1)).status_code == 200
    shown = await tls_csms.api.get("/api/v1/charge-points/CP-1")
    assert shown.json()["security_profile"] == 1


async def test_first_start_makes_a_private_pki_that_a_second_start_reuses(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "data")
    pki = settings.data_dir / "pki"
    first = EmbeddedCsms(settings)
    await first.start()
    await first.stop()
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    for name in ("ca.pem", "ca-key.pem", "server.pem", "server-key.pem"):
        assert stat.S_IMODE((pki / name).stat().st_mode) == 0o600, name
    before = {name: (pki / name).read_bytes() for name in ("ca.pem", "server.pem")}
    second = EmbeddedCsms(settings)
    await second.start()
    await second.stop()
    assert {name: (pki / name).read_bytes() for name in before} == before
