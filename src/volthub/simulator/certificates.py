"""Certificates kept by a simulated station: PEM/DER reading, hash data, the store (pure, no I/O).

Only the few X.509 fields that OCPP's CertificateHashData needs are read, with a minimal DER
reader. Signatures are not verified: a simulated station trusts what parses. The 1.6 station
makes its CSR with plain integer RSA (``build_csr``); the 2.x station with the ``cryptography``
package and an EC key (``make_signing_request``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field

HASH_ALGORITHMS = {"SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}

_PEM = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>[A-Za-z0-9+/=\s]+?)-----END (?P=label)-----"
)


class CertificateError(ValueError):
    """Text that is not a usable certificate (chain)."""


def pem_to_der(text: str, label: str = "CERTIFICATE") -> list[bytes]:
    """The DER bytes of each PEM block with ``label`` in ``text`` (in order)."""
    blocks = []
    for match in _PEM.finditer(text):
        if match.group("label") != label:
            continue
        try:
            blocks.append(base64.b64decode("".join(match.group("body").split()), validate=True))
        except ValueError as exc:
            raise CertificateError("a PEM block is not valid base64") from exc
    return blocks


def der_to_pem(der: bytes, label: str) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def _read_tlv(data: bytes, offset: int) -> tuple[int, int, int, int]:
    """One DER element at ``offset``: (tag, content start, content end, element start)."""
    if offset + 2 > len(data):
        raise CertificateError("truncated DER")
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise CertificateError("unsupported DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise CertificateError("truncated DER")
    return tag, start, end, offset


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    elements = []
    offset = start
    while offset < end:
        element = _read_tlv(data, offset)
        elements.append(element)
        offset = element[2]
    return elements


@dataclass(frozen=True)
class CertificateInfo:
    der: bytes
    serial_number_hex: str
    issuer_der: bytes
    subject_der: bytes
    public_key: bytes

    @property
    def is_self_issued(self) -> bool:
        return self.issuer_der == self.subject_der


def parse_certificate(der: bytes) -> CertificateInfo:
    """Read serial number, issuer, subject and public key from an X.509 certificate."""
    tag, start, end, _ = _read_tlv(der, 0)
    if tag != 0x30:
        raise CertificateError("not a certificate")
    parts = _children(der, start, end)
    if len(parts) != 3 or parts[0][0] != 0x30:
        raise CertificateError("not a certificate")
    tbs = _children(der, parts[0][1], parts[0][2])
    if tbs and tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    if len(tbs) < 6 or tbs[0][0] != 0x02:
        raise CertificateError("not a certificate")
    serial, _algorithm, issuer, _validity, subject, key_info = tbs[:6]
    key_parts = _children(der, key_info[1], key_info[2])
    if len(key_parts) != 2 or key_parts[1][0] != 0x03:
        raise CertificateError("no subject public key")
    # The key hash covers the BIT STRING's value without its unused-bits byte (RFC 6960 §4.1.1).
    public_key = der[key_parts[1][1] + 1 : key_parts[1][2]]
    serial_value = int.from_bytes(der[serial[1] : serial[2]], "big")
    return CertificateInfo(
        der=der,
        serial_number_hex=format(serial_value, "x"),
        issuer_der=der[issuer[3] : issuer[2]],
        subject_der=der[subject[3] : subject[2]],
        public_key=public_key,
    )


@dataclass(frozen=True)
class CertificateHash:
    """CertificateHashDataType (whitepaper §6.1; 2.0.1 CertificateHashDataType)."""

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str


def certificate_hash(
    info: CertificateInfo, algorithm: str = "SHA256", issuer: CertificateInfo | None = None
) -> CertificateHash:
    """Hash data as OCSP computes it: the issuer's DER name and the issuer's public key.

    For a self-issued (root) certificate the issuer key is its own. For another one the issuer's
    certificate is needed; without it, the certificate's own key stands in so that the result is
    at least stable for matching a DeleteCertificate against a GetInstalledCertificateIds.
    """
    name = HASH_ALGORITHMS.get(algorithm)
    if name is None:
        raise CertificateError(f"unsupported hash algorithm {algorithm}")
    issuer_key = issuer.public_key if issuer is not None else info.public_key
    return CertificateHash(
        hash_algorithm=algorithm,
        issuer_name_hash=hashlib.new(name, info.issuer_der).hexdigest(),
        issuer_key_hash=hashlib.new(name, issuer_key).hexdigest(),
        serial_number=info.serial_number_hex[:40],
    )


@dataclass
class InstalledCertificate:
    certificate_type: str
    info: CertificateInfo


@dataclass
class CertificateStore:
    """Root certificates installed by the CSMS and the station's own certificate chain."""

    max_installed: int = 20
    installed: list[InstalledCertificate] = field(default_factory=list)
    station_chain: list[CertificateInfo] = field(default_factory=list)

    def install(self, certificate_type: str, pem: str) -> str:
        """InstallCertificate (whitepaper M05): Accepted, Rejected (invalid or full) or Failed."""
        try:
            blocks = pem_to_der(pem)
            if len(blocks) != 1:
                return "Rejected"
            info = parse_certificate(blocks[0])
        except CertificateError:
            return "Rejected"  # M05.FR.06: "The certificate is invalid and/or incorrect."
        if any(c.info.der == info.der for c in self.installed):
            return "Accepted"
        if len(self.installed) >= self.max_installed:
            return "Rejected"  # M05.FR.03: no more space.
        self.installed.append(InstalledCertificate(certificate_type, info))
        return "Accepted"

    def hashes(self, certificate_type: str, algorithm: str = "SHA256") -> list[CertificateHash]:
        """GetInstalledCertificateIds (M03): hash data of each certificate of that type."""
        return [
            certificate_hash(c.info, algorithm, self._issuer_of(c.info))
            for c in self.installed
            if c.certificate_type == certificate_type
        ]

    def delete(self, wanted: CertificateHash) -> str:
        """DeleteCertificate (M04): Accepted when found and deleted, else NotFound."""
        for installed in self.installed:
            try:
                candidate = certificate_hash(
                    installed.info, wanted.hash_algorithm, self._issuer_of(installed.info)
                )
            except CertificateError:
                return "Failed"
            if (
                candidate.issuer_name_hash.lower() == wanted.issuer_name_hash.lower()
                and candidate.issuer_key_hash.lower() == wanted.issuer_key_hash.lower()
                and candidate.serial_number.lower().lstrip("0") == wanted.serial_number.lower().lstrip("0")
            ):
                self.installed.remove(installed)
                return "Accepted"
        return "NotFound"

    def accept_signed_chain(self, pem_chain: str) -> bool:
        """CertificateSigned (A02/A03): keep a chain that parses; refuse anything else."""
        try:
            infos = [parse_certificate(der) for der in pem_to_der(pem_chain)]
        except CertificateError:
            return False
        if not infos:
            return False
        self.station_chain = infos
        return True

    def _issuer_of(self, info: CertificateInfo) -> CertificateInfo | None:
        if info.is_self_issued:
            return info
        for candidate in self.installed:
            if candidate.info.subject_der == info.issuer_der:
                return candidate.info
        return None


# --- certificate signing requests ---------------------------------------------------------------
# SignCertificate.req carries "a Certificate Signing Request (CSR) as described in RFC 2986 and
# then PEM encoded" (A02.FR.03). A real PKCS#10 request with an RSA key keeps a CSMS that parses
# or forwards it honest; the key is made here with plain integer arithmetic.

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]

_OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_OID_SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
_OID_COMMON_NAME = "2.5.4.3"
_OID_ORGANIZATION = "2.5.4.10"


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


def _der_integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _der_oid(dotted: str) -> bytes:
    numbers = [int(n) for n in dotted.split(".")]
    body = bytearray([40 * numbers[0] + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_sequence(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _is_probable_prime(candidate: int, rounds: int = 32) -> bool:
    """Miller-Rabin with random bases, after trial division by small primes."""
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return candidate in _SMALL_PRIMES
    d, s = candidate - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(2 + secrets.randbelow(candidate - 3), d, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, candidate)
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _random_prime(bits: int) -> int:
    while True:
        # The two top bits set make the product of two such primes exactly 2·bits long.
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if _is_probable_prime(candidate):
            return candidate


@dataclass(frozen=True)
class RsaKey:
    modulus: int
    public_exponent: int
    private_exponent: int


def generate_rsa_key(bits: int = 2048) -> RsaKey:
    """A fresh RSA key (CPU-heavy for a second or so: run it in a worker thread)."""
    exponent = 65537
    while True:
        p = _random_prime(bits // 2)
        q = _random_prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and phi % exponent != 0 and (p * q).bit_length() == bits:
            return RsaKey(p * q, exponent, pow(exponent, -1, phi))


def build_csr(common_name: str, organization: str, key: RsaKey) -> str:
    """A PEM PKCS#10 request, subject CN=station id, O=CpoName (A02.FR.13), signed SHA-256/RSA."""

    def name_part(oid: str, value: str) -> bytes:
        return _der(0x31, _der_sequence(_der_oid(oid), _der(0x0C, value.encode("utf-8"))))

    subject = _der_sequence(
        name_part(_OID_ORGANIZATION, organization), name_part(_OID_COMMON_NAME, common_name)
    )
    rsa_public = _der_sequence(_der_integer(key.modulus), _der_integer(key.public_exponent))
    key_info = _der_sequence(
        _der_sequence(_der_oid(_OID_RSA_ENCRYPTION), _der(0x05, b"")),
        _der(0x03, b"\x00" + rsa_public),
    )
    request_info = _der_sequence(_der_integer(0), subject, key_info, _der(0xA0, b""))
    digest_info = _der_sequence(
        _der_sequence(_der_oid(_OID_SHA256), _der(0x05, b"")),
        _der(0x04, hashlib.sha256(request_info).digest()),
    )
    # PKCS #1 v1.5 signature padding (RFC 8017 §9.2): 00 01 FF..FF 00 DigestInfo.
    size = (key.modulus.bit_length() + 7) // 8
    padded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    signature = pow(int.from_bytes(padded, "big"), key.private_exponent, key.modulus)
    csr = _der_sequence(
        request_info,
        _der_sequence(_der_oid(_OID_SHA256_WITH_RSA), _der(0x05, b"")),
        _der(0x03, b"\x00" + signature.to_bytes(size, "big")),
    )
    return der_to_pem(csr, "CERTIFICATE REQUEST")


# --- certificate signing requests with the ``cryptography`` package (OCPP 2.x) -------------------
# OCPP 2.0.1 A00.FR.4xx: the station's key is RSA (2048 bits or more) or ECDSA on secp256r1; an
# EC key is made in microseconds, so a thousand simulated stations can each have their own.


@dataclass(frozen=True)
class SigningRequest:
    """A PEM CSR and the key pair it was made for (the private key never leaves the station)."""

    csr_pem: str
    private_key_pem: str
    #: The subjectPublicKey BIT STRING value, comparable with ``CertificateInfo.public_key``.
    public_key: bytes


def make_signing_request(common_name: str, organization: str) -> SigningRequest:
    """A fresh secp256r1 key and a PKCS#10 request for it, subject O=``organization``,
    CN=``common_name``, signed with ECDSA/SHA-256 (OCPP 2.0.1 A02.FR.02/A02.FR.06)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64] or "-"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    public_der = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return SigningRequest(
        csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        private_key_pem=private_pem,
        public_key=public_der,
    )
