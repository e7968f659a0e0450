"""ISO 15118 certificate management (block M): a real OCSP responder, CRLs and a fake
certificate provider, all served over HTTP on loopback at test time."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.x509 import ocsp
from starlette.applications import Starlette

from tests.support.pki import TestPki, pki_app, serve
from volthub.config import Settings
from volthub.ocpp.schemas import validator
from volthub.services.iso15118 import Iso15118Service
from volthub.wiring import build_container, close_container


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create()


@pytest.fixture
def app(pki: TestPki) -> Starlette:
    return pki_app(pki)


@pytest.fixture
async def base_url(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as url:
        yield url


@pytest.fixture
async def service() -> AsyncIterator[Iso15118Service]:
    svc = Iso15118Service(ocsp_timeout_s=2.0)
    yield svc
    await svc.aclose()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/ocsp"


def request_data(pki: TestPki, cert: Any, url: str, algorithm: str = "SHA256") -> dict[str, str]:
    return {**pki.hash_data(cert, algorithm), "responderURL": url}


def decode(ocsp_result: str) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(base64.b64decode(ocsp_result, validate=True))


def valid_status_response(version: str, status: str, ocsp_result: str | None,
                          info: dict[str, str] | None) -> None:
    payload: dict[str, Any] = {"status": status}
    if ocsp_result is not None:
        payload["ocspResult"] = ocsp_result
    if info is not None:
        payload["statusInfo"] = info
    check = validator(version, "GetCertificateStatus", True)
    assert check is not None
    check(payload)


# --- GetCertificateStatus: a real OCSP round trip ---------------------------------------------

@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
async def test_good_certificate(pki: TestPki, base_url: str, service: Iso15118Service,
                                algorithm: str) -> None:
    status, result, reason = await service.get_certificate_status(
        request_data(pki, pki.good, f"{base_url}/ocsp/ca", algorithm))
    assert (status, reason) == ("Accepted", None)
    assert result is not None
    response = decode(result)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.serial_number == pki.good.serial_number
    assert response.hash_algorithm.name == algorithm.lower()
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    valid_status_response("2.0.1", status, result, None)


async def test_revoked_certificate_is_accepted_with_a_revoked_result(
        pki: TestPki, base_url: str, service: Iso15118Service) -> None:
    status, result, reason = await service.get_certificate_status(
        request_data(pki, pki.revoked, f"{base_url}/ocsp/delegated"))
    assert (status, reason) == ("Accepted", None)
    assert result is not None
    response = decode(result)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is not None
    assert response.serial_number == pki.revoked.serial_number
    valid_status_response("2.0.1", status, result, None)


async def test_unreachable_responder(pki: TestPki, service: Iso15118Service) -> None:
    status, result, reason = await service.get_certificate_status(
        request_data(pki, pki.good, closed_port_url()))
    assert status == "Failed" and result is None
    assert reason is not None and "unreachable" in reason


async def test_slow_responder_times_out(pki: TestPki, base_url: str) -> None:
    svc = Iso15118Service(ocsp_timeout_s=0.3)
    try:
        result = await svc.certificate_status(request_data(pki, pki.good, f"{base_url}/slow"))
    finally:
        await svc.aclose()
    assert result.status == "Failed" and result.ocsp_result is None
    assert result.reason is not None and "within 0.3 s" in result.reason


@pytest.mark.parametrize(("path", "expected"), [
    ("/ocsp/garbage", "no OCSP response"),
    ("/ocsp/unauthorized", "UNAUTHORIZED"),
    ("/error", "HTTP 500"),
])
async def test_responder_failures(pki: TestPki, base_url: str, service: Iso15118Service,
                                  path: str, expected: str) -> None:
    result = await service.certificate_status(request_data(pki, pki.good, base_url + path))
    assert result.status == "Failed" and result.ocsp_result is None
    assert result.reason is not None and expected in result.reason
    valid_status_response("2.0.1", result.status, None, result.status_info())


@pytest.mark.parametrize(("change", "expected_code"), [
    ({"responderURL": ""}, "InvalidURL"),
    ({"responderURL": "ftp://ocsp.example/"}, "InvalidURL"),
    ({"responderURL": "not a url at all"}, "InvalidURL"),
    ({"issuerKeyHash": "zz"}, "InvalidValue"),
    ({"issuerNameHash": "abcd"}, "InvalidValue"),
    ({"serialNumber": "xyz"}, "InvalidValue"),
    ({"hashAlgorithm": "MD5"}, "InvalidValue"),
])
async def test_bad_request_data(pki: TestPki, service: Iso15118Service,
                                change: dict[str, str], expected_code: str) -> None:
    data = {**request_data(pki, pki.good, "http://127.0.0.1:9/ocsp"), **change}
    result = await service.certificate_status(data)
    assert (result.status, result.reason_code) == ("Failed", expected_code)
    assert result.ocsp_result is None and result.reason


async def test_result_longer_than_the_schema_allows(pki: TestPki, base_url: str,
                                                     service: Iso15118Service) -> None:
    result = await service.certificate_status(request_data(pki, pki.good, f"{base_url}/ocsp/ca"),
                                              max_ocsp_result=100)
    assert (result.status, result.reason_code) == ("Failed", "TooLargeElement")


# --- GetCertificateChainStatus (2.1) ----------------------------------------------------------

def chain_request(pki: TestPki, cert: Any, source: str, *urls: str) -> dict[str, Any]:
    return {"certificateHashData": pki.hash_data(cert), "source": source, "urls": list(urls)}


def assert_valid_chain_response(entries: list[dict[str, Any]]) -> None:
    check = validator("2.1", "GetCertificateChainStatus", True)
    assert check is not None
    check({"certificateStatus": entries})


async def test_chain_status_over_ocsp(pki: TestPki, base_url: str,
                                      service: Iso15118Service) -> None:
    requests = [chain_request(pki, pki.good, "OCSP", f"{base_url}/ocsp/ca"),
                chain_request(pki, pki.revoked, "OCSP", f"{base_url}/ocsp/ca"),
                chain_request(pki, pki.unknown, "OCSP", f"{base_url}/ocsp/ca"),
                chain_request(pki, pki.good, "OCSP", closed_port_url())]
    entries = await service.get_certificate_chain_status(requests)
    assert_valid_chain_response(entries)
    assert [e["status"] for e in entries] == ["Good", "Revoked", "Unknown", "Failed"]
    for entry, request in zip(entries, requests, strict=True):
        assert entry["certificateHashData"] == request["certificateHashData"]
        assert entry["source"] == "OCSP"
    next_update = datetime.fromisoformat(entries[0]["nextUpdate"])
    assert datetime.now(UTC) < next_update <= datetime.now(UTC) + timedelta(hours=1)
    assert "customData" not in entries[0]
    assert entries[3]["customData"]["vendorId"] == "volthub"
    assert "unreachable" in entries[3]["customData"]["additionalInfo"]


async def test_chain_status_tries_the_next_url(pki: TestPki, base_url: str,
                                               service: Iso15118Service) -> None:
    [entry] = await service.get_certificate_chain_status([chain_request(
        pki, pki.good, "OCSP", closed_port_url(), f"{base_url}/ocsp/garbage",
        f"{base_url}/ocsp/ca")])
    assert entry["status"] == "Good"
    [entry] = await service.get_certificate_chain_status([chain_request(
        pki, pki.good, "OCSP", closed_port_url(), f"{base_url}/ocsp/unauthorized")])
    assert entry["status"] == "Failed"
    assert "unreachable" in entry["customData"]["additionalInfo"]
    assert "UNAUTHORIZED" in entry["customData"]["additionalInfo"]
    assert_valid_chain_response([entry])


async def test_chain_status_rejects_forged_ocsp_answers(pki: TestPki, base_url: str) -> None:
    # Trusting the real CA does not make an answer signed by another key with its name good.
    svc = Iso15118Service(trusted_issuers=[pki.ca.cert])
    try:
        entries = await svc.get_certificate_chain_status([
            chain_request(pki, pki.revoked, "OCSP", f"{base_url}/ocsp/forged"),
            chain_request(pki, pki.revoked, "OCSP", f"{base_url}/ocsp/forged-delegated"),
        ])
    finally:
        await svc.aclose()
    assert [e["status"] for e in entries] == ["Failed", "Failed"]
    assert all("not signed by the issuer" in e["customData"]["additionalInfo"] for e in entries)
    assert_valid_chain_response(entries)


async def test_delegated_responder_needs_the_issuer(pki: TestPki, base_url: str,
                                                    service: Iso15118Service) -> None:
    requests = [chain_request(pki, pki.revoked, "OCSP", f"{base_url}/ocsp/delegated"),
                chain_request(pki, pki.good, "OCSP", f"{base_url}/ocsp/ca-bare")]
    untrusted = await service.get_certificate_chain_status(requests)
    assert [e["status"] for e in untrusted] == ["Failed", "Failed"]
    assert "trust bundle" in untrusted[0]["customData"]["additionalInfo"]
    svc = Iso15118Service(trusted_issuers=[pki.ca.cert])
    try:
        trusted = await svc.get_certificate_chain_status(requests)
    finally:
        await svc.aclose()
    assert [e["status"] for e in trusted] == ["Revoked", "Good"]
    assert_valid_chain_response(untrusted + trusted)


async def test_chain_status_rejects_out_of_date_answers(pki: TestPki, base_url: str) -> None:
    svc = Iso15118Service(clock=lambda: datetime.now(UTC) + timedelta(days=2))
    try:
        [entry] = await svc.get_certificate_chain_status(
            [chain_request(pki, pki.good, "OCSP", f"{base_url}/ocsp/ca")])
    finally:
        await svc.aclose()
    assert entry["status"] == "Failed"
    assert "out of date" in entry["customData"]["additionalInfo"]


async def test_chain_status_over_crl(pki: TestPki, base_url: str, tmp_path: Any) -> None:
    bundle = tmp_path / "trust.pem"
    bundle.write_bytes(pki.rogue.pem + pki.ca.pem)
    settings = Settings(iso15118_trust_bundle=str(bundle))
    svc = Iso15118Service.from_settings(settings)
    try:
        entries = await svc.get_certificate_chain_status([
            chain_request(pki, pki.good, "CRL", f"{base_url}/crl.der"),
            chain_request(pki, pki.revoked, "CRL", f"{base_url}/crl.pem"),
            chain_request(pki, pki.revoked, "CRL", f"{base_url}/crl-forged"),
            chain_request(pki, pki.good, "CRL", f"{base_url}/ocsp/ca"),  # 405: not a GET route
        ])
    finally:
        await svc.aclose()
    assert_valid_chain_response(entries)
    assert [e["status"] for e in entries] == ["Good", "Revoked", "Failed", "Failed"]
    assert all(e["source"] == "CRL" for e in entries)
    assert "not signed by the issuer" in entries[2]["customData"]["additionalInfo"]
    assert "HTTP 405" in entries[3]["customData"]["additionalInfo"]
    next_update = datetime.fromisoformat(entries[0]["nextUpdate"])
    assert next_update > datetime.now(UTC) + timedelta(hours=23)


async def test_crl_without_trusted_issuer_fails(pki: TestPki, base_url: str,
                                                service: Iso15118Service) -> None:
    [entry] = await service.get_certificate_chain_status(
        [chain_request(pki, pki.revoked, "CRL", f"{base_url}/crl.der")])
    assert entry["status"] == "Failed"
    assert "trust bundle" in entry["customData"]["additionalInfo"]
    assert_valid_chain_response([entry])


# --- Get15118EVCertificate: forwarding to the certificate provider ----------------------------

EXI = base64.b64encode(b"CertificateInstallationReq").decode()


def valid_ev_response(version: str, status: str, exi: str, info: dict[str, str] | None) -> None:
    payload: dict[str, Any] = {"status": status, "exiResponse": exi}
    if info is not None:
        payload["statusInfo"] = info
    check = validator(version, "Get15118EVCertificate", True)
    assert check is not None
    check(payload)


async def test_ev_certificate_forwarded(app: Starlette, base_url: str) -> None:
    svc = Iso15118Service(cert_provider_url=f"{base_url}/provider")
    try:
        status, exi, reason = await svc.get_ev_certificate(
            "CS-1", "urn:iso:15118:2:2013:MsgDef", "Install", EXI,
            {"maximumContractCertificateChains": 1, "prioritizedEMAIDs": ["DE8AAA1"],
             "customData": {"vendorId": "x"}})
        result = await svc.ev_certificate("CS-1", "urn:iso:std:iso:15118:-20:CommonMessages",
                                          "Update", EXI)
    finally:
        await svc.aclose()
    assert (status, reason) == ("Accepted", None)
    assert base64.b64decode(exi) == b"CertificateInstallationRes for CertificateInstallationReq"
    assert app.state.provider_requests[0] == {
        "stationId": "CS-1", "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install", "exiRequest": EXI, "maximumContractCertificateChains": 1,
        "prioritizedEMAIDs": ["DE8AAA1"]}
    assert app.state.provider_requests[1]["action"] == "Update"
    assert result.remaining_contracts == 2 and result.status_info() is None
    valid_ev_response("2.0.1", status, exi, None)


async def test_ev_certificate_provider_says_failed(base_url: str) -> None:
    svc = Iso15118Service(cert_provider_url=f"{base_url}/provider/failed")
    try:
        result = await svc.ev_certificate("CS-1", "urn:iso:15118:2:2013:MsgDef", "Install", EXI)
    finally:
        await svc.aclose()
    assert (result.status, result.exi_response) == ("Failed", "")
    assert result.reason == "no contract for this EMAID"
    assert result.status_info() == {"reasonCode": "NoContract",
                                    "additionalInfo": "no contract for this EMAID"}
    valid_ev_response("2.0.1", result.status, result.exi_response, result.status_info())


@pytest.mark.parametrize(("path", "expected"), [
    ("/provider/not-json", "no JSON"),
    ("/provider/bad-exi", "not base64"),
    ("/error", "HTTP 500"),
    ("/slow", "within 0.3 s"),
])
async def test_ev_certificate_provider_misbehaves(base_url: str, path: str, expected: str) -> None:
    svc = Iso15118Service(cert_provider_url=base_url + path, cert_provider_timeout_s=0.3)
    try:
        status, exi, reason = await svc.get_ev_certificate("CS-1", "urn:iso:15118:2:2013:MsgDef",
                                                           "Install", EXI)
    finally:
        await svc.aclose()
    assert (status, exi) == ("Failed", "")
    assert reason is not None and expected in reason


async def test_ev_certificate_provider_down() -> None:
    svc = Iso15118Service(cert_provider_url=closed_port_url())
    try:
        result = await svc.ev_certificate("CS-1", "urn:iso:15118:2:2013:MsgDef", "Install", EXI)
    finally:
        await svc.aclose()
    assert (result.status, result.exi_response) == ("Failed", "")
    assert result.reason is not None and "certificate provider" in result.reason
    assert "unreachable" in result.reason
    valid_ev_response("2.1", result.status, result.exi_response, result.status_info())


async def test_ev_certificate_without_provider(service: Iso15118Service) -> None:
    status, exi, reason = await service.get_ev_certificate("CS-1", "urn:iso:15118:2:2013:MsgDef",
                                                           "Install", EXI)
    assert (status, exi, reason) == ("Failed", "", "no certificate provider configured")


async def test_ev_certificate_response_too_long(base_url: str) -> None:
    svc = Iso15118Service(cert_provider_url=f"{base_url}/provider")
    try:
        result = await svc.ev_certificate("CS-1", "urn:iso:15118:2:2013:MsgDef", "Install", EXI,
                                          max_exi_response=10)
    finally:
        await svc.aclose()
    assert (result.status, result.reason_code) == ("Failed", "TooLargeElement")


# --- settings and wiring ----------------------------------------------------------------------

def test_settings_from_env() -> None:
    settings = Settings.from_env({"VOLTHUB_ISO15118_CERT_PROVIDER_URL": "http://pki.local/ev",
                                  "VOLTHUB_ISO15118_CERT_PROVIDER_TIMEOUT_S": "4.5",
                                  "VOLTHUB_OCSP_TIMEOUT_S": "3",
                                  "VOLTHUB_ISO15118_TRUST_BUNDLE": "/etc/v2g.pem"})
    assert settings.iso15118_cert_provider_url == "http://pki.local/ev"
    assert settings.iso15118_cert_provider_timeout_s == 4.5
    assert settings.ocsp_timeout_s == 3.0
    assert settings.iso15118_trust_bundle == "/etc/v2g.pem"
    defaults = Settings.from_env({})
    assert defaults.iso15118_cert_provider_url is None
    assert (defaults.iso15118_cert_provider_timeout_s, defaults.ocsp_timeout_s) == (10.0, 10.0)


async def test_container_has_the_service(sqlite_url: str, pki: TestPki, base_url: str) -> None:
    container = await build_container(Settings(database_url=sqlite_url, admin_token="t",
                                               iso15118_cert_provider_url=f"{base_url}/provider"))
    try:
        status, _, _ = await container.services.iso15118.get_ev_certificate(
            "CS-1", "urn:iso:15118:2:2013:MsgDef", "Install", EXI)
        assert status == "Accepted"
        status, result, _ = await container.services.iso15118.get_certificate_status(
            request_data(pki, pki.good, f"{base_url}/ocsp/ca"))
        assert status == "Accepted" and result is not None
    finally:
        await close_container(container)



def test_bad_trust_bundle_names_the_variable(tmp_path: Any) -> None:
    bundle = tmp_path / "trust.pem"
    bundle.write_text("not a certificate")
    for path in (str(bundle), str(tmp_path / "missing.pem")):
        with pytest.raises(ValueError, match="VOLTHUB_ISO15118_TRUST_BUNDLE"):
            Iso15118Service.from_settings(Settings(iso15118_trust_bundle=path))
