"""SignCertificate end to end (OCPP 1.6 security extension): the built-in CA signs a station's
CSR, the answer is Accepted, then CertificateSigned brings a chain that verifies against the CA."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from ocpp.v16 import call
from websockets.asyncio.client import ClientConnection

from tests.support.server import RunningServer
from tests.support.station16 import connect16
from tests.support.timeouts import ANSWER_TIMEOUT_S
from tests.support.tls_pki import client_context, csr_pem, key_pem, new_key
from tests.support.tls_server import TlsEnv, heartbeat, open_ws


async def eventually(check: Any) -> Any:
    """Poll until `check` gives something (or fail at a generous deadline)."""
    async with asyncio.timeout(10):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.02)


async def ca_certificate(server: RunningServer) -> x509.Certificate:
    response = await server.api.get("/certificate-authority")
    assert response.status_code == 200, response.text
    return x509.load_pem_x509_certificate(response.json()["certificate"].encode())


async def certificates(server: RunningServer, station_id: str) -> list[dict[str, Any]]:
    response = await server.api.get(f"/stations/{station_id}/certificates")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def verify_chain(chain: str, ca: x509.Certificate, station_id: str) -> x509.Certificate:
    leaf, *rest = x509.load_pem_x509_certificates(chain.encode())
    assert rest == [ca]
    leaf.verify_directly_issued_by(ca)
    assert [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [
        station_id]
    return leaf


async def recv(ws: ClientConnection) -> list[Any]:
    frame: list[Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=ANSWER_TIMEOUT_S))
    return frame


async def test_sign_certificate_then_certificate_signed(server: RunningServer) -> None:
    key = new_key("ecdsa")
    async with open_ws(server, "CP-CSR-1", None) as ws:
        await ws.send(json.dumps([2, "b", "BootNotification",
                                  {"chargePointVendor": "V", "chargePointModel": "M"}]))
        assert (await recv(ws))[2]["status"] == "Accepted"
        await ws.send(json.dumps([2, "s1", "SignCertificate", {"csr": csr_pem("CP-CSR-1", key)}]))
        # The answer first (A02.FR.11), then the CSMS's CertificateSigned call.
        assert await recv(ws) == [3, "s1", {"status": "Accepted"}]
        kind, message_id, action, payload = await recv(ws)
        assert (kind, action) == (2, "CertificateSigned")
        assert set(payload) == {"certificateChain"}  # 1.6: no certificateType
        await ws.send(json.dumps([3, message_id, {"status": "Accepted"}]))
        leaf = verify_chain(payload["certificateChain"], await ca_certificate(server), "CP-CSR-1")
        assert leaf.public_key().public_numbers() == key.public_key().public_numbers()

        async def delivered() -> list[dict[str, Any]] | None:
            items = await certificates(server, "CP-CSR-1")
            return items if items and items[0]["delivery_status"] else None

        [record] = await eventually(delivered)
    assert record["status"] == "Accepted" and record["reason"] is None
    assert record["delivery_status"] == "Accepted"
    assert record["certificate_chain"] == payload["certificateChain"]
    assert record["serial_number"] == format(leaf.serial_number, "x")
    assert record["certificate_type"] is None
    assert record["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert record["valid_to"].endswith("Z") and record["delivered_at"].endswith("Z")


async def test_rsa_csr_with_the_library_station(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-CSR-RSA") as station:
        result = await station.call(call.SignCertificate(csr=csr_pem("CP-CSR-RSA",
                                                                     new_key("rsa"))),
                                    suppress=False)
        assert result.status == "Accepted"

        async def got() -> dict[str, Any] | None:
            return next((p for a, p in station.received if a == "CertificateSigned"), None)

        payload = await eventually(got)
    verify_chain(payload["certificate_chain"], await ca_certificate(server), "CP-CSR-RSA")


async def test_csr_of_another_station_is_rejected(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-CSR-2") as station:
        result = await station.call(call.SignCertificate(csr=csr_pem("CP-SOMEONE-ELSE")),
                                    suppress=False)
        assert result.status == "Rejected"
        await asyncio.sleep(0.3)
        assert not any(a == "CertificateSigned" for a, _ in station.received)
    [record] = await certificates(server, "CP-CSR-2")
    assert record["status"] == "Rejected" and record["certificate_chain"] is None
    assert "CP-SOMEONE-ELSE" in record["reason"]
    events = (await server.api.get("/stations/CP-CSR-2/security-events")).json()["items"]
    assert events[0]["type"] == "CertificateSigningRequestRejected"
    assert "CP-SOMEONE-ELSE" in events[0]["tech_info"]


async def test_station_rejecting_the_certificate_is_recorded(server: RunningServer) -> None:
    async with connect16(server.ocpp_url, "CP-CSR-3") as station:
        station.answers["CertificateSigned"] = {"status": "Rejected"}
        await station.call(call.SignCertificate(csr=csr_pem("CP-CSR-3")), suppress=False)

        async def answered() -> list[dict[str, Any]] | None:
            items = await certificates(server, "CP-CSR-3")
            return items if items[0]["delivery_status"] else None

        [record] = await eventually(answered)
    assert record["status"] == "Accepted" and record["delivery_status"] == "Rejected"


async def test_certificate_routes(server: RunningServer) -> None:
    response = await server.api.get("/stations/NOPE/certificates")
    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]
    ca = await ca_certificate(server)
    stored = Path(server.settings.data_dir) / "ca" / "ca.cert.pem"
    assert x509.load_pem_x509_certificate(stored.read_bytes()) == ca
    assert (Path(server.settings.data_dir) / "ca" / "ca.key.pem").stat().st_mode & 0o077 == 0


async def test_signed_certificate_authenticates_the_station(tls: TlsEnv) -> None:
    """The full A02/A03 cycle on a profile-3 station: its new certificate from the built-in
    CA works for mutual TLS at once."""
    server = tls.server
    await server.api.post("/stations", json={"id": "CP-RENEW", "security_profile": 2,
                                              "password": "s3cret-passw0rd-16"})
    key = new_key("ecdsa")
    async with connect16(server.ocpp_url, "CP-RENEW", password="s3cret-passw0rd-16",
                         ssl_context=tls.client()) as station:
        await station.call(call.SignCertificate(csr=csr_pem("CP-RENEW", key)), suppress=False)

        async def got() -> dict[str, Any] | None:
            return next((p for a, p in station.received if a == "CertificateSigned"), None)

        payload = await eventually(got)
    cert_file, key_file = tls.folder / "renewed.pem", tls.folder / "renewed.key"
    cert_file.write_text(payload["certificate_chain"])
    key_file.write_bytes(key_pem(key))
    patched = await server.api.patch("/stations/CP-RENEW", json={"security_profile": 3})
    assert patched.status_code == 200
    async with open_ws(server, "CP-RENEW", client_context(tls.ca_file, cert_file, key_file)) as ws:
        assert (await heartbeat(ws))[0] == 3
        assert server.container.gateway.get("CP-RENEW").ctx.security_level == 3
