"""The built-in CA: made once with a private key file, signs valid CSRs of the right station."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.tls_pki import csr_pem, new_key
from volthub.security.ca import CA_CERT_FILE, CA_KEY_FILE, CertificateAuthority, CsrRejected


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.load_or_create(tmp_path / "ca")


def _chain(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def test_ca_is_created_once_with_a_private_key_file(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "ca"
    first = CertificateAuthority.load_or_create(folder)
    assert stat.S_IMODE((folder / CA_KEY_FILE).stat().st_mode) == 0o600
    assert (folder / CA_CERT_FILE).read_text() == first.certificate_pem
    again = CertificateAuthority.load_or_create(folder)
    assert again.certificate == first.certificate
    cert = first.certificate
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_signs_a_csr_of_the_station(ca: CertificateAuthority, kind: str) -> None:
    now = datetime.now(UTC)
    key = new_key(kind)
    issued = ca.sign_csr(csr_pem("CP-1", key), "CP-1", validity=timedelta(days=365), now=now)
    leaf, root = _chain(issued.chain_pem)
    assert root == ca.certificate
    leaf.verify_directly_issued_by(ca.certificate)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-1"
    # The station's O (its CpoName, whitepaper A02.FR.13) is kept.
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Test CPO"
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    assert format(leaf.serial_number, "x") == issued.serial_number
    assert leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc
    assert leaf.not_valid_after_utc - now == timedelta(days=365) - timedelta(
        microseconds=now.microsecond)
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    assert usage.key_agreement == (kind == "ecdsa")
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_serials_are_random(ca: CertificateAuthority) -> None:
    serials = {ca.sign_csr(csr_pem("CP-1"), "CP-1").serial_number for _ in range(5)}
    assert len(serials) == 5


@pytest.mark.parametrize(("csr", "reason"), [
    (lambda: csr_pem("CP-OTHER"), "CP-OTHER is not the station identity CP-1"),
    (lambda: "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----",
     "not a PEM certificate signing request"),
    (lambda: "hello", "not a PEM certificate signing request"),
    (lambda: csr_pem("CP-1", rsa.generate_private_key(public_exponent=65537, key_size=1024)),
     "RSA key of 1024 bits"),
    (lambda: csr_pem("CP-1", ec.generate_private_key(ec.SECP192R1())), "EC key of 192 bits"),
], ids=["wrong-cn", "truncated", "not-pem", "rsa-1024", "p-192"])
def test_refuses_bad_csrs(ca: CertificateAuthority, csr: object, reason: str) -> None:
    with pytest.raises(CsrRejected, match=reason):
        ca.sign_csr(csr(), "CP-1")  # type: ignore[operator]


def test_refuses_a_csr_whose_signature_does_not_verify(ca: CertificateAuthority) -> None:
    # A CSR of CP-X with its subject changed to CP-1 afterwards: the signature no longer fits.
    der = x509.load_pem_x509_csr(csr_pem("CP-X").encode()).public_bytes(Encoding.DER)
    forged = x509.load_der_x509_csr(der.replace(b"CP-X", b"CP-1"))
    with pytest.raises(CsrRejected, match="signature"):
        ca.sign_csr(forged.public_bytes(Encoding.PEM).decode(), "CP-1")


def test_issues_server_certificates(ca: CertificateAuthority) -> None:
    key_pem, issued = ca.issue_server_certificate(["127.0.0.1", "csms.example"], "rsa")
    assert "PRIVATE KEY" in key_pem
    leaf, root = _chain(issued.chain_pem)
    leaf.verify_directly_issued_by(root)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "127.0.0.1"
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["csms.example"]
    assert isinstance(leaf.public_key(), rsa.RSAPublicKey)
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

