"""wss:// end to end: TLS versions, both server certificates with the four OCPP cipher suites,
security profiles 2 and 3 (client certificates whose CN is the station id), profile upgrades.
Certificates are made at test time (tests/support/tls_pki.py)."""

from __future__ import annotations

import asyncio
import ssl

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from websockets.typing import Subprotocol

from tests.support.server import RunningServer
from tests.support.station16 import connect16
from tests.support.tls_pki import TestCA, client_context
from tests.support.tls_server import (
    PASSWORD,
    TlsEnv,
    create,
    events,
    heartbeat,
    open_ws,
    refused,
    ssl_object,
)


# TLS versions and cipher suites ---------------------------------------------------------------
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls1.2", "tls1.3"])
async def test_wss_with_tls_1_2_and_1_3(tls: TlsEnv, version: ssl.TLSVersion) -> None:
    context = tls.client(minimum=version, maximum=version)
    async with connect16(tls.server.ocpp_url, "CP-TLS", ssl_context=context) as station:
        assert ssl_object(station._connection).version() == version.name.replace("v1_", "v1.")
    station_view = (await tls.server.api.get("/stations/CP-TLS")).json()
    assert station_view["vendor"] == "TestVendor"  # the BootNotification went through


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
async def test_tls_1_1_is_refused(tls: TlsEnv) -> None:
    # A client that offers TLS 1.0/1.1 only (OpenSSL's security level 0 lets it): the server
    # ends the handshake (an alert, or a reset).
    context = tls.client(minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1_1,
                         ciphers="DEFAULT:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        async with open_ws(tls.server, "CP-OLD-TLS", context):
            pass
    assert tls.server.container.gateway.is_connected("CP-OLD-TLS") is False


@pytest.mark.parametrize(("suite", "key_type"), [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", ec.EllipticCurvePublicKey),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", ec.EllipticCurvePublicKey),
    ("AES128-GCM-SHA256", rsa.RSAPublicKey),  # TLS_RSA_WITH_AES_128_GCM_SHA256
    ("AES256-GCM-SHA384", rsa.RSAPublicKey),  # TLS_RSA_WITH_AES_256_GCM_SHA384
    ("ECDHE-RSA-AES128-GCM-SHA256", rsa.RSAPublicKey),
    ("ECDHE-RSA-AES256-GCM-SHA384", rsa.RSAPublicKey),
])
async def test_rsa_and_ecdsa_certificates_are_both_served(
    tls: TlsEnv, suite: str, key_type: type,
) -> None:
    # A station offering only this TLS 1.2 suite gets the certificate that fits it.
    context = tls.client(maximum=ssl.TLSVersion.TLSv1_2, ciphers=suite)
    async with open_ws(tls.server, "CP-SUITE", context) as ws:
        cipher = ssl_object(ws).cipher()
        assert cipher is not None and cipher[0] == suite
        der = ssl_object(ws).getpeercert(binary_form=True)
        assert der is not None
        assert isinstance(x509.load_der_x509_certificate(der).public_key(), key_type)
        assert (await heartbeat(ws))[0] == 3


async def test_plain_ws_is_not_served_on_a_tls_listener(tls: TlsEnv) -> None:
    plain_url = tls.server.ocpp_url.replace("wss://", "ws://")
    with pytest.raises((OSError, websockets.exceptions.InvalidMessage, asyncio.TimeoutError)):
        async with asyncio.timeout(5), websockets.connect(f"{plain_url}/CP-PLAIN",
                                                          subprotocols=[Subprotocol("ocpp1.6")]):
            pass


# security profile 2 ---------------------------------------------------------------------------
async def test_profile_2_station_over_wss_with_basic_auth(tls: TlsEnv) -> None:
    await create(tls.server, "CP-P2", 2, PASSWORD)
    async with open_ws(tls.server, "CP-P2", tls.client(), PASSWORD) as ws:
        assert (await heartbeat(ws))[0] == 3
    assert await refused(tls.server, "CP-P2", tls.client()) == 401
    assert await refused(tls.server, "CP-P2", tls.client(), "wrong-password-16") == 401


# security profile 3 ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
async def test_profile_3_client_certificate_with_the_station_id(tls: TlsEnv, kind: str) -> None:
    await create(tls.server, "CP-P3", 3)
    async with open_ws(tls.server, "CP-P3", tls.client("CP-P3", kind)) as ws:
        assert (await heartbeat(ws))[0] == 3
        view = (await tls.server.api.get("/stations/CP-P3")).json()
        assert view["connected"] is True
        assert tls.server.container.gateway.get("CP-P3").ctx.security_level == 3


async def test_client_certificate_of_another_station_is_refused(tls: TlsEnv) -> None:
    await create(tls.server, "CP-MINE", 3)
    assert await refused(tls.server, "CP-MINE", tls.client("CP-OTHER")) == 403
    found = await events(tls.server, "CP-MINE")
    assert found[0]["type"] == "InvalidChargingStationCertificate"
    assert "CP-OTHER" in found[0]["tech_info"] and found[0]["source"] == "csms"
    # Even a station of a lower profile may not present another station's certificate.
    await create(tls.server, "CP-LOW", 0)
    assert await refused(tls.server, "CP-LOW", tls.client("CP-OTHER")) == 403


async def test_profile_3_without_a_client_certificate_is_refused(tls: TlsEnv) -> None:
    await create(tls.server, "CP-NOCERT", 3, PASSWORD)
    assert await refused(tls.server, "CP-NOCERT", tls.client(), PASSWORD) == 403
    assert await refused(tls.server, "CP-NOCERT", tls.client()) == 403
    found = await events(tls.server, "CP-NOCERT")
    assert found[0]["type"] == "SecurityProfileViolation"
    assert "client certificate" in found[0]["tech_info"]


async def test_client_certificate_of_an_unknown_ca_fails_the_handshake(tls: TlsEnv) -> None:
    stranger = TestCA.create("Stranger CA")
    cert, key = stranger.write_pair(tls.folder, "stranger", "CP-STRANGER", "ecdsa")
    context = client_context(tls.ca_file, cert, key)
    await create(tls.server, "CP-STRANGER", 3)
    with pytest.raises((ssl.SSLError, OSError, websockets.exceptions.InvalidMessage)):
        async with open_ws(tls.server, "CP-STRANGER", context) as ws:
            await heartbeat(ws)  # TLS 1.3: the server's verdict arrives with the first read
    assert not tls.server.container.gateway.is_connected("CP-STRANGER")


async def test_a_certificate_authenticates_a_station_of_lower_profile(tls: TlsEnv) -> None:
    # Profile 3 credentials offer more than profile 2 asks for: no password needed.
    await create(tls.server, "CP-MORE", 2, PASSWORD)
    async with open_ws(tls.server, "CP-MORE", tls.client("CP-MORE")) as ws:
        assert (await heartbeat(ws))[0] == 3


# raising the profile --------------------------------------------------------------------------
async def test_raising_the_profile_closes_a_weaker_connection(tls: TlsEnv) -> None:
    await create(tls.server, "CP-UP", 2, PASSWORD)
    async with open_ws(tls.server, "CP-UP", tls.client(), PASSWORD) as ws:
        assert (await heartbeat(ws))[0] == 3
        patched = await tls.server.api.patch("/stations/CP-UP", json={"security_profile": 3})
        assert patched.status_code == 200, patched.text
        assert patched.json()["security_profile"] == 3
        await asyncio.wait_for(ws.wait_closed(), timeout=10)
        assert ws.close_code == 1008
    found = await events(tls.server, "CP-UP")
    assert found[0]["type"] == "SecurityProfileViolation"
    assert "security profile 3" in found[0]["tech_info"]
    # From now on: Basic auth alone is refused, the station's certificate is accepted.
    assert await refused(tls.server, "CP-UP", tls.client(), PASSWORD) == 403
    async with open_ws(tls.server, "CP-UP", tls.client("CP-UP")) as ws:
        assert (await heartbeat(ws))[0] == 3
        # A connection that already meets the new profile stays.
        patched = await tls.server.api.patch("/stations/CP-UP", json={"security_profile": 3})
        assert patched.status_code == 200
        assert (await heartbeat(ws))[0] == 3


async def test_raising_the_profile_on_plain_ws(server: RunningServer) -> None:
    await create(server, "CP-UP1", 1, PASSWORD)
    async with open_ws(server, "CP-UP1", None, PASSWORD) as ws:
        assert (await heartbeat(ws))[0] == 3
        await server.api.patch("/stations/CP-UP1", json={"security_profile": 1})
        assert (await heartbeat(ws))[0] == 3  # not raised above what it offers: stays open
        await server.api.patch("/stations/CP-UP1", json={"security_profile": 2})
        await asyncio.wait_for(ws.wait_closed(), timeout=10)
        assert ws.close_code == 1008
    assert await refused(server, "CP-UP1", None, PASSWORD) == 403
