"""The built-in certificate authority: signs stations' CSRs (OCPP A02/A03) and dev server certs.

The CA key (ECDSA P-256, A00.FR.503/505) and its self-signed certificate live in `{data_dir}/ca/`
(`ca.key.pem` mode 0600, `ca.cert.pem`); they are made on first use and loaded afterwards.
Station certificates follow the whitepaper's certificate properties (A00.FR.501-512): the CSR's
subject (CN = the station identity, O = the CPO name the station put there), a random serial,
SHA-256, key usage restricted to TLS client authentication.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from volthub.services.ports import utc_now

CA_KEY_FILE = "ca.key.pem"
CA_CERT_FILE = "ca.cert.pem"
CA_VALIDITY = timedelta(days=3650)
# Certificates start a little in the past: a station's clock may run slightly behind ours.
BACKDATE = timedelta(minutes=5)
MIN_RSA_BITS = 2048  # A00.FR.502
MIN_EC_BITS = 224  # A00.FR.503


class CsrRejected(ValueError):
    """A CSR the CA does not sign; the message says why (it goes to the security event)."""


@dataclass(slots=True, frozen=True)
class IssuedCertificate:
    certificate_pem: str
    chain_pem: str  # leaf first, then the CA certificate
    serial_number: str  # hexadecimal
    valid_from: datetime
    valid_to: datetime


class CertificateAuthority:
    """A CA key and certificate, able to sign station and server certificates."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self.key = key
        self.certificate = certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @classmethod
    def load_or_create(cls, directory: str | os.PathLike[str], name: str = "volthub CA",
                       organization: str = "volthub") -> CertificateAuthority:
        """Load the CA from `directory`, creating a new one there when it holds none."""
        folder = Path(directory)
        key_path, cert_path = folder / CA_KEY_FILE, folder / CA_CERT_FILE
        if key_path.exists() and cert_path.exists():
            return cls._load(key_path, cert_path)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ])
        now = utc_now()
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        try:
            # O_EXCL: of two processes creating the CA at once, one wins and the other loads it.
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls._load_when_written(key_path, cert_path)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        tmp = cert_path.with_suffix(".tmp")
        tmp.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        tmp.replace(cert_path)
        return cls(key, certificate)

    @classmethod
    def _load_when_written(cls, key_path: Path, cert_path: Path) -> CertificateAuthority:
        import time

        for _ in range(100):
            if cert_path.exists():
                return cls._load(key_path, cert_path)
            time.sleep(0.05)
        raise RuntimeError(f"{key_path} exists but {cert_path} does not: remove both to start "
                           "a new CA")

    @classmethod
    def _load(cls, key_path: Path, cert_path: Path) -> CertificateAuthority:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RuntimeError(f"{key_path}: the CA key must be an EC key")
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return cls(key, certificate)

    # station certificates ---------------------------------------------------------------------
    def sign_csr(self, csr_pem: str, station_id: str, *, validity: timedelta = timedelta(days=365),
                 now: datetime | None = None) -> IssuedCertificate:
        """A TLS client certificate for `station_id` from its CSR; CsrRejected when the CSR is
        not valid PEM, its signature does not verify, its CN is not the station identity or
        its key is too weak."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as exc:
            raise CsrRejected("not a PEM certificate signing request") from exc
        try:
            if not csr.is_signature_valid:
                raise CsrRejected("the CSR signature does not verify")
        except (InvalidSignature, ValueError) as exc:  # unsupported key or hash
            raise CsrRejected(f"the CSR signature cannot be verified: {exc}") from exc
        names = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if names != [station_id]:
            raise CsrRejected(f"the CSR common name {', '.join(names) or '(none)'} is not the "
                              f"station identity {station_id}")
        public = csr.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            if public.key_size < MIN_RSA_BITS:
                raise CsrRejected(f"RSA key of {public.key_size} bits: at least {MIN_RSA_BITS}")
            usage = _key_usage(key_encipherment=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            if public.curve.key_size < MIN_EC_BITS:
                raise CsrRejected(f"EC key of {public.curve.key_size} bits: at least {MIN_EC_BITS}")
            usage = _key_usage(key_agreement=True)
        else:
            raise CsrRejected("the CSR key is neither RSA nor EC")
        now = now or utc_now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .public_key(public)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
        )
        return self._issue(builder, public, now, validity)

    # server certificates (development and tests) ---------------------------------------------
    def issue_server_certificate(
        self, hosts: list[str], key_type: str = "ecdsa", *, validity: timedelta = timedelta(days=365),
        organization: str = "volthub",
    ) -> tuple[str, IssuedCertificate]:
        """A new key and a TLS server certificate for `hosts` (DNS names or IP addresses): the
        CN is the first host (A00.FR.510), all of them are subjectAltNames. Returns the key PEM."""
        if not hosts:
            raise ValueError("a server certificate needs at least one host name")
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        if key_type == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            usage = _key_usage(key_encipherment=True)
        elif key_type == "ecdsa":
            key = ec.generate_private_key(ec.SECP256R1())
            usage = _key_usage()
        else:
            raise ValueError(f"key_type must be rsa or ecdsa, not {key_type!r}")
        alt_names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt_names.append(x509.DNSName(host))
        public = key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([
                x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]))
            .public_key(public)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        )
        issued = self._issue(builder, public, utc_now(), validity)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        return key_pem, issued

    def _issue(self, builder: x509.CertificateBuilder,
               public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, now: datetime,
               validity: timedelta) -> IssuedCertificate:
        not_before = now - BACKDATE
        not_after = min(now + validity, self.certificate.not_valid_after_utc)
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        certificate = (
            builder.issuer_name(self.certificate.subject)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
                critical=False)
            .sign(self.key, hashes.SHA256())
        )
        leaf = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return IssuedCertificate(
            certificate_pem=leaf,
            chain_pem=leaf + self.certificate_pem,
            serial_number=format(certificate.serial_number, "x"),
            valid_from=certificate.not_valid_before_utc,
            valid_to=certificate.not_valid_after_utc,
        )


def _key_usage(*, key_encipherment: bool = False, key_agreement: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=key_encipherment,
        data_encipherment=False, key_agreement=key_agreement, key_cert_sign=False,
        crl_sign=False, encipher_only=False, decipher_only=False,
    )
