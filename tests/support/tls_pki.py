"""A throwaway PKI for TLS tests: a test CA, RSA and ECDSA server certificates for 127.0.0.1,
client certificates and CSRs with any CN — all made at test time with `cryptography`."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key(kind: str = "ecdsa") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str = "Test CPO") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


@dataclass
class TestCA:
    __test__ = False

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, cn: str = "Test Root CA") -> TestCA:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def issue(self, cn: str, key: PrivateKey, server: bool = False) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False)
        )
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(cn)), x509.DNSName("localhost")]),
                critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def write_pair(self, folder: Path, name: str, cn: str, kind: str,
                   server: bool = False) -> tuple[Path, Path]:
        key = new_key(kind)
        cert = self.issue(cn, key, server)
        cert_path, key_path = folder / f"{name}.cert.pem", folder / f"{name}.key.pem"
        cert_path.write_bytes(cert_pem(cert))
        key_path.write_bytes(key_pem(key))
        return cert_path, key_path

    def write_cert(self, folder: Path, name: str = "ca") -> Path:
        path = folder / f"{name}.cert.pem"
        path.write_bytes(cert_pem(self.cert))
        return path


def csr_pem(cn: str, key: PrivateKey | None = None, org: str = "Test CPO") -> str:
    key = key or new_key("ecdsa")
    csr = x509.CertificateSigningRequestBuilder().subject_name(_name(cn, org)).sign(
        key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def client_context(
    trust: Path | str | None, cert: Path | None = None, key: Path | None = None,
    minimum: ssl.TLSVersion | None = None, maximum: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """A station's TLS context: trusting the CA file (or PEM text) `trust`, with an optional
    client certificate, TLS version bounds and TLS 1.2 cipher list."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if isinstance(trust, Path):
        context.load_verify_locations(cafile=str(trust))
    elif trust is not None:
        context.load_verify_locations(cadata=trust)
    if cert is not None:
        context.load_cert_chain(str(cert), str(key) if key else None)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    if ciphers is not None:
        context.set_ciphers(ciphers)
    return context
