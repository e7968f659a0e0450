"""Security profile rules: password forms, masking, connection levels; the TLS server context."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from tests.support.tls_pki import TestCA
from volthub.config import Settings
from volthub.domain import commands as c
from volthub.security.tls import OCPP_TLS12_CIPHERS, TlsConfigError, build_server_context
from volthub.services.passwords import hash_password
from volthub.services.security_profile import (
    MASK,
    authorization_key_password,
    connection_level,
    mask_secrets,
    password_change,
    password_matches,
    shortfall,
)

HEX_KEY = "00112233445566778899aabbccddeeff01020304"  # 40 hex digits = 20 octets


def test_authorization_key_hex_form_stands_for_octets() -> None:
    assert authorization_key_password(HEX_KEY) == bytes.fromhex(HEX_KEY)
    assert authorization_key_password(HEX_KEY[:32]) == bytes.fromhex(HEX_KEY[:32])
    # Not 32-40 hex digits: the text is the password.
    assert authorization_key_password("plain-password-16") == b"plain-password-16"
    assert authorization_key_password(HEX_KEY[:30]) == HEX_KEY[:30].encode()
    assert authorization_key_password(HEX_KEY[:39]) == HEX_KEY[:39].encode()


def test_either_form_of_a_hex_key_is_accepted() -> None:
    stored = hash_password(bytes.fromhex(HEX_KEY))
    assert password_matches(bytes.fromhex(HEX_KEY), stored)
    assert password_matches(HEX_KEY.encode(), stored)
    assert not password_matches(b"something else entirely", stored)
    # A hex key stored as text (admin API) also matches a station that decodes it.
    as_text = hash_password(HEX_KEY)
    assert password_matches(bytes.fromhex(HEX_KEY), as_text)
    assert password_matches(HEX_KEY, as_text)


def test_password_change_commands() -> None:
    assert password_change(c.SetConfiguration(key="AuthorizationKey", value=HEX_KEY)) is not None
    change = password_change(c.SetConfiguration(key="SecurityCtrlr.BasicAuthPassword",
                                                value=HEX_KEY))
    assert change is not None and change.password == HEX_KEY.encode()  # 2.x: never decoded
    assert password_change(c.SetConfiguration(key="HeartbeatInterval", value="60")) is None
    variables = c.SetVariables(variables=[
        c.VariableRef(component="SecurityCtrlr", variable="BasicAuthPassword", value="p" * 16),
        c.VariableRef(component="OCPPCommCtrlr", variable="HeartbeatInterval", value="60")])
    change = password_change(variables)
    assert change is not None and change.password == b"p" * 16


def test_passwords_are_masked_in_logged_payloads() -> None:
    payload = {"key": "AuthorizationKey", "value": HEX_KEY}
    assert mask_secrets("ChangeConfiguration", payload) == {"key": "AuthorizationKey",
                                                            "value": MASK}
    assert payload["value"] == HEX_KEY  # the payload sent is untouched
    other = {"key": "HeartbeatInterval", "value": "60"}
    assert mask_secrets("ChangeConfiguration", other) is other
    data = {"setVariableData": [
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
         "attributeValue": "secret-secret-secret"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "60"}]}
    masked = mask_secrets("SetVariables", data)
    assert [d["attributeValue"] for d in masked["setVariableData"]] == [MASK, "60"]
    assert data["setVariableData"][0]["attributeValue"] == "secret-secret-secret"
    assert mask_secrets("Heartbeat", {}) == {}


@pytest.mark.parametrize(("tls", "cert", "password", "level"), [
    (False, False, False, 0), (False, False, True, 1), (True, False, True, 2),
    (True, True, False, 3), (True, False, False, 0), (False, True, True, 1),
])
def test_connection_level(tls: bool, cert: bool, password: bool, level: int) -> None:
    assert connection_level(tls, cert, password) == level


def test_shortfall() -> None:
    assert shortfall(2, 3) is None and shortfall(0, 0) is None
    assert shortfall(1, 0) == (401, "station requires a password but has none set")
    assert shortfall(2, 1) == (403, "station requires TLS")
    status, reason = shortfall(3, 2) or (0, "")
    assert status == 403 and "client certificate" in reason


# the TLS server context ---------------------------------------------------------------------
@pytest.fixture
def pki(tmp_path: Path) -> tuple[TestCA, Path]:
    return TestCA.create(), tmp_path


def _settings(ca: TestCA, folder: Path, *kinds: str) -> Settings:
    settings = Settings()
    for i, kind in enumerate(kinds):
        cert, key = ca.write_pair(folder, f"server{i}", "127.0.0.1", kind, server=True)
        if i == 0:
            settings.tls_cert_file, settings.tls_key_file = str(cert), str(key)
        else:
            settings.tls_ecdsa_cert_file, settings.tls_ecdsa_key_file = str(cert), str(key)
    return settings


def test_server_context(pki: tuple[TestCA, Path]) -> None:
    ca, folder = pki
    context = build_server_context(_settings(ca, folder, "rsa", "ecdsa"))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE
    assert context.options & ssl.OP_NO_COMPRESSION
    names = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert names == set(OCPP_TLS12_CIPHERS.split(":"))
    with_clients = build_server_context(_settings(ca, folder, "ecdsa"),
                                        ca.write_cert(folder).read_text())
    assert with_clients.verify_mode == ssl.CERT_OPTIONAL


def test_two_certificates_of_one_key_type_are_refused(pki: tuple[TestCA, Path]) -> None:
    ca, folder = pki
    with pytest.raises(TlsConfigError, match="both hold RSA"):
        build_server_context(_settings(ca, folder, "rsa", "rsa"))


def test_bad_tls_settings_name_the_setting(pki: tuple[TestCA, Path]) -> None:
    ca, folder = pki
    with pytest.raises(TlsConfigError, match="tls_cert_file"):
        build_server_context(Settings(tls_cert_file=str(folder / "missing.pem")))
    settings = _settings(ca, folder, "rsa")
    settings.tls_client_ca_file = str(folder / "missing-ca.pem")
    with pytest.raises(TlsConfigError, match="tls_client_ca_file"):
        build_server_context(settings)
    settings = _settings(ca, folder, "rsa")
    settings.tls_ecdsa_key_file = str(folder / "server0.key.pem")  # a key without certificate
    with pytest.raises(TlsConfigError, match="tls_ecdsa_cert_file is missing"):
        build_server_context(settings)


def test_settings_from_environment() -> None:
    settings = Settings.from_env({
        "VOLTHUB_TLS_CERT_FILE": "/etc/volthub/rsa.pem", "VOLTHUB_TLS_KEY_FILE": "/k/rsa.pem",
        "VOLTHUB_TLS_ECDSA_CERT_FILE": "/e.pem", "VOLTHUB_TLS_ECDSA_KEY_FILE": "/ek.pem",
        "VOLTHUB_TLS_CLIENT_CA_FILE": "/ca.pem", "VOLTHUB_DATA_DIR": "/var/lib/volthub",
        "VOLTHUB_CERTIFICATE_VALIDITY_DAYS": "90"}, data_dir="/srv/volthub")
    assert (settings.tls_cert_file, settings.tls_key_file) == ("/etc/volthub/rsa.pem",
                                                                "/k/rsa.pem")
    assert (settings.tls_ecdsa_cert_file, settings.tls_ecdsa_key_file) == ("/e.pem", "/ek.pem")
    assert settings.tls_client_ca_file == "/ca.pem"
    assert settings.data_dir == "/srv/volthub"  # a flag wins
    assert settings.certificate_validity_days == 90
    defaults = Settings.from_env({})
    assert defaults.tls_cert_file is None and defaults.data_dir == "volthub-data"
