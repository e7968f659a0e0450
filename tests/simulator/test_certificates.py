"""Certificates: reading X.509 fields, hash data, the store, and certificate signing requests."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from volthub.simulator.certificates import (
    CertificateError,
    CertificateHash,
    CertificateInfo,
    CertificateStore,
    build_csr,
    certificate_hash,
    generate_rsa_key,
    parse_certificate,
    pem_to_der,
)

# A self-signed P-256 root made with: openssl req -x509 -newkey ec
#   -pkeyopt ec_paramgen_curve:P-256 -subj "/O=Test CSMS/CN=Test Root" -set_serial 0x1a2b3c
ROOT_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBlTCCATqgAwIBAgIDGis8MAoGCCqGSM49BAMCMCgxEjAQBgNVBAoMCVRlc3Qg
Q1NNUzESMBAGA1UEAwwJVGVzdCBSb290MB4XDTI2MTEyMTEzMDA0OVoXDTM2MTEx
ODEzMDA0OVowKDESMBAGA1UECgwJVGVzdCBDU01TMRIwEAYDVQQDDAlUZXN0IFJv
b3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQx1cOdZOWC+fTSNwhKqACsnoiD
wcnK6UtXy9ZMom9FOZFr7wXQuFpB/U+gilwictCS6ZE4oRyqY0qE34cWdkTJo1Mw
UTAdBgNVHQ4EFgQUY1SxJO7G+LollYFas9LjB5ujAOEwHwYDVR0jBBgwFoAUY1Sx
JO7G+LollYFas9LjB5ujAOEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJ
ADBGAiEA2jebWM2kP6KCiFKWGS2d4Kn+12hacbe4xX5vKyAw824CIQDMAkIOJkJj
bKnU08mS0C3F/9SZzthOfSaPXqb1DlS18A==
-----END CERTIFICATE-----
"""
# What `openssl ocsp -issuer root.pem -cert root.pem -req_text` reports (SHA-1 hashes).
OPENSSL_ISSUER_NAME_SHA1 = "0e722eb4020dadec86becec0735560c9f98cd43e"
OPENSSL_ISSUER_KEY_SHA1 = "6354b124eec6f8ba2595815ab3d2e3079ba300e1"


def root_info() -> CertificateInfo:
    return parse_certificate(pem_to_der(ROOT_PEM)[0])


def test_the_fields_read_match_what_openssl_hashes() -> None:
    info = root_info()
    assert info.serial_number_hex == "1a2b3c"
    assert info.is_self_issued
    assert hashlib.sha1(info.issuer_der).hexdigest() == OPENSSL_ISSUER_NAME_SHA1
    assert hashlib.sha1(info.public_key).hexdigest() == OPENSSL_ISSUER_KEY_SHA1


def test_hash_data_uses_the_requested_algorithm() -> None:
    info = root_info()
    hashed = certificate_hash(info, "SHA384")
    assert hashed.issuer_name_hash == hashlib.sha384(info.issuer_der).hexdigest()
    assert hashed.issuer_key_hash == hashlib.sha384(info.public_key).hexdigest()
    assert hashed.serial_number == "1a2b3c"
    with pytest.raises(CertificateError):
        certificate_hash(info, "MD5")


@pytest.mark.parametrize(
    "text", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]
)
def test_what_is_not_a_certificate_is_refused(text: str) -> None:
    with pytest.raises(CertificateError):
        blocks = pem_to_der(text)
        if not blocks:
            raise CertificateError("no block")
        parse_certificate(blocks[0])


def test_store_installs_lists_and_deletes_by_hash_data() -> None:
    store = CertificateStore()
    assert store.install("CentralSystemRootCertificate", ROOT_PEM) == "Accepted"
    assert store.install("CentralSystemRootCertificate", "garbage") == "Rejected"
    assert store.hashes("ManufacturerRootCertificate") == []
    [hashed] = store.hashes("CentralSystemRootCertificate")
    missing = CertificateHash("SHA256", hashed.issuer_name_hash, hashed.issuer_key_hash, "ff")
    assert store.delete(missing) == "NotFound"
    upper = CertificateHash("SHA256", hashed.issuer_name_hash.upper(), hashed.issuer_key_hash, "001A2B3C")
    assert store.delete(upper) == "Accepted"
    assert store.hashes("CentralSystemRootCertificate") == []


def test_a_full_store_rejects_more_certificates() -> None:
    store = CertificateStore(max_installed=0)
    assert store.install("CentralSystemRootCertificate", ROOT_PEM) == "Rejected"


def test_a_signed_chain_is_kept_only_when_it_parses() -> None:
    store = CertificateStore()
    assert not store.accept_signed_chain("nonsense")
    assert store.accept_signed_chain(ROOT_PEM + ROOT_PEM)
    assert len(store.station_chain) == 2


def _der_children(der: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, end) of each DER element in der[start:end]."""
    out = []
    while start < end:
        tag, length, header = der[start], der[start + 1], 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(der[start + 2 : start + 2 + count], "big")
            header += count
        out.append((tag, start, start + header, start + header + length))
        start += header + length
    return out


def test_the_csr_is_pkcs10_signed_with_the_generated_key(tmp_path: Path) -> None:
    key = generate_rsa_key(1024)
    pem = build_csr("SIM-0001", "Test CPO", key)
    [der] = pem_to_der(pem, "CERTIFICATE REQUEST")
    [(tag, _, start, end)] = _der_children(der, 0, len(der))
    info, algorithm, signature = _der_children(der, start, end)
    assert tag == 0x30 and info[0] == 0x30 and algorithm[0] == 0x30 and signature[0] == 0x03
    request_info = der[info[1] : info[3]]
    # The signature opens to PKCS #1 v1.5 padding around the SHA-256 of the request info.
    signature_value = int.from_bytes(der[signature[2] + 1 : signature[3]], "big")
    opened = pow(signature_value, key.public_exponent, key.modulus)
    padded = opened.to_bytes(128, "big")
    assert padded.startswith(b"\x00\x01\xff")
    assert padded.endswith(hashlib.sha256(request_info).digest())
    assert b"SIM-0001" in der and b"Test CPO" in der
    if shutil.which("openssl"):
        path = tmp_path / "request.csr"
        path.write_text(pem)
        result = subprocess.run(
            ["openssl", "req", "-in", str(path), "-noout", "-verify"], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
