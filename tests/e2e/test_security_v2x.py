"""Security on OCPP 2.0.1 / 2.1 stations: BasicAuthPassword updates (A01) and SignCertificate
(A02/A03) signed by the built-in CA."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.support.server import RunningServer
from tests.support.station2x import connect2x
from tests.support.tls_pki import csr_pem
from tests.support.tls_server import refused

OLD = "old-passw0rd-1234"
NEW = "00112233445566778899aabbccddeeff"  # 2.x: text, even when it looks like hex


def _answer(status: str) -> dict[str, Any]:
    return {"setVariableResult": [{
        "attributeStatus": status, "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"}}]}


async def _connects(server: RunningServer, station_id: str, password: str) -> bool:
    try:
        async with connect2x(server.ocpp_url, station_id, password=password):
            return True
    except Exception:
        return False


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_basic_auth_password_update(server: RunningServer, version: str) -> None:
    station_id = f"CP2-PW-{version}"
    await server.api.post("/stations", json={"id": station_id, "password": OLD})
    async with connect2x(server.ocpp_url, station_id, version, password=OLD) as station:
        station.answers["SetVariables"] = _answer("Rejected")
        response = await server.api.post(
            f"/stations/{station_id}/commands/set-configuration",
            json={"key": "SecurityCtrlr.BasicAuthPassword", "value": NEW})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Rejected"
        station.answers["SetVariables"] = _answer("Accepted")
        response = await server.api.post(
            f"/stations/{station_id}/commands/set-configuration",
            json={"key": "SecurityCtrlr.BasicAuthPassword", "value": NEW})
        assert response.json()["status"] == "Accepted"
        [first, _second] = station.got("SetVariables")
        assert first["setVariableData"][0]["attributeValue"] == NEW
    assert await refused(server, station_id, None, OLD) == 401
    assert await _connects(server, station_id, NEW)
    log = await server.api.get(f"/stations/{station_id}/messages")
    assert NEW not in log.text
    sent = [m["payload"] for m in log.json()["items"]
            if m["action"] == "SetVariables" and m["message_type"] == "CALL"]
    assert sent and all(p["setVariableData"][0]["attributeValue"] == "********" for p in sent)


async def test_set_variables_password_update(server: RunningServer) -> None:
    await server.api.post("/stations", json={"id": "CP2-PW-SV", "password": OLD})
    async with connect2x(server.ocpp_url, "CP2-PW-SV", password=OLD) as station:
        station.answers["SetVariables"] = {"setVariableResult": [
            _answer("Accepted")["setVariableResult"][0],
            {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}]}
        response = await server.api.post("/stations/CP2-PW-SV/commands/set-variables", json={
            "variables": [
                {"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": NEW},
                {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"}]})
        assert response.status_code == 200, response.text
    assert await _connects(server, "CP2-PW-SV", NEW)
    assert not await _connects(server, "CP2-PW-SV", OLD)


async def test_sign_certificate_on_2x(server: RunningServer) -> None:
    async with connect2x(server.ocpp_url, "CP2-CSR") as station:
        answer = await station.send("SignCertificate", {
            "csr": csr_pem("CP2-CSR"), "certificateType": "ChargingStationCertificate"})
        assert answer["status"] == "Accepted"
        payload = await station.wait_for("CertificateSigned")
        assert payload["certificateType"] == "ChargingStationCertificate"
        leaf = x509.load_pem_x509_certificates(payload["certificateChain"].encode())[0]
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP2-CSR"
        rejected = await station.send("SignCertificate", {"csr": csr_pem("SOMEONE-ELSE")})
        assert rejected["status"] == "Rejected"
