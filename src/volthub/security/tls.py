"""TLS for the OCPP endpoint (wss://): the server SSLContext and the client certificate.

OCPP 1.6 security whitepaper A00.FR.312/416 and OCPP 2.0.1 A00: TLS 1.2 or above only, no TLS
compression (A00.FR.320), and a CSMS that offers at least TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_GCM_SHA256 and
TLS_RSA_WITH_AES_256_GCM_SHA384 (A00.FR.317/421) — so it serves an ECDSA and an RSA certificate
at once; OpenSSL picks the one that fits the suite a station offers.

uvicorn puts no peer certificate into the ASGI scope: `TlsWebSocketProtocol` adds the ASGI TLS
extension (`scope["extensions"]["tls"]`) to WebSocket scopes, from the connection's ssl object.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from websockets.http11 import Request

    from volthub.config import Settings

# TLS 1.2 suites, best first; TLS 1.3 suites are OpenSSL's defaults (all AEAD). ECDHE_RSA is
# not required by OCPP but gives RSA stations forward secrecy; the TLS_RSA pair is what
# A00.FR.317 requires (it has none, so the server's preference puts it last).
OCPP_TLS12_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256",  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    "ECDHE-ECDSA-AES256-GCM-SHA384",  # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    "ECDHE-RSA-AES128-GCM-SHA256",    # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    "ECDHE-RSA-AES256-GCM-SHA384",    # TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    "AES128-GCM-SHA256",              # TLS_RSA_WITH_AES_128_GCM_SHA256
    "AES256-GCM-SHA384",              # TLS_RSA_WITH_AES_256_GCM_SHA384
])


class TlsConfigError(ValueError):
    """TLS settings that cannot make a server context (message names the setting)."""


def tls_enabled(settings: Settings) -> bool:
    return bool(settings.tls_cert_file or settings.tls_ecdsa_cert_file)


def _key_kind(cert_file: str, setting: str) -> str:
    try:
        pem = Path(cert_file).read_bytes()
        cert = x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError) as exc:
        raise TlsConfigError(f"{setting}: cannot read a PEM certificate from {cert_file!r}: "
                             f"{exc}") from exc
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA"
    raise TlsConfigError(f"{setting}: {cert_file!r} holds neither an RSA nor an ECDSA key")


def build_server_context(settings: Settings, client_ca_pem: str | None = None) -> ssl.SSLContext:
    """The SSLContext of every listener: TLS 1.2/1.3, the configured server certificates, and
    optional client certificates (CERT_OPTIONAL: stations of profile 2 have none) verified
    against `client_ca_pem` (the built-in CA) and `settings.tls_client_ca_file`."""
    pairs = [
        (settings.tls_cert_file, settings.tls_key_file, "tls_cert_file"),
        (settings.tls_ecdsa_cert_file, settings.tls_ecdsa_key_file, "tls_ecdsa_cert_file"),
    ]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_ciphers(OCPP_TLS12_CIPHERS)
    kinds: dict[str, str] = {}
    for cert_file, key_file, setting in pairs:
        if not cert_file:
            if key_file:
                raise TlsConfigError(f"{setting} is missing for its key file {key_file!r}")
            continue
        kind = _key_kind(cert_file, setting)
        if kind in kinds:
            raise TlsConfigError(f"{setting} and {kinds[kind]} both hold {kind} certificates: "
                                 "give one RSA and one ECDSA certificate")
        kinds[kind] = setting
        try:
            # One certificate per key type: a second call adds the other type (OpenSSL chooses
            # per handshake from the station's cipher suites and signature algorithms).
            context.load_cert_chain(cert_file, key_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError(f"{setting}: cannot load {cert_file!r} with its key: {exc}") from exc
    if not kinds:
        raise TlsConfigError("TLS needs tls_cert_file or tls_ecdsa_cert_file")
    if client_ca_pem:
        context.load_verify_locations(cadata=client_ca_pem)
    if settings.tls_client_ca_file:
        try:
            context.load_verify_locations(cafile=settings.tls_client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError(f"tls_client_ca_file: cannot load {settings.tls_client_ca_file!r}:"
                                 f" {exc}") from exc
    if client_ca_pem or settings.tls_client_ca_file:
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


# The ASGI TLS extension ------------------------------------------------------------------------
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> dict[str, Any]:
    """`scope["extensions"]["tls"]` as the ASGI TLS extension describes it (the client chain
    holds the leaf only: Python 3.11 does not expose the rest of the verified chain)."""
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    name: str | None = None
    if der:
        name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    version = ssl_object.version()
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(version or ""),
        "cipher_suite": None,  # Python gives the suite's name only: see "cipher_name"
        "cipher_name": cipher[0] if cipher else None,
    }


class TlsWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, plus the ASGI TLS extension in the scope."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: dict[str, Any] | None = self.__dict__.get("scope")  # unset for a refused upgrade
        ssl_object = self.transport.get_extra_info("ssl_object")
        if scope is not None and ssl_object is not None:
            # The ASGI task starts at the next loop turn: the scope is complete by then.
            scope["extensions"]["tls"] = tls_extension(ssl_object)


@dataclass(slots=True, frozen=True)
class ClientCertificate:
    """The certificate a station presented at the TLS handshake (verified by OpenSSL)."""

    common_names: tuple[str, ...]
    subject: str
    pem: str


def client_certificate(scope: Mapping[str, Any]) -> ClientCertificate | None:
    """The verified client certificate of a connection, from the ASGI TLS extension."""
    tls = scope.get("extensions", {}).get("tls")
    if not tls or not tls.get("client_cert_chain"):
        return None
    pem = tls["client_cert_chain"][0]
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = tuple(
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    return ClientCertificate(names, cert.subject.rfc4514_string(), pem)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn.Config arguments for the WebSocket protocol and, when configured, TLS (with
    client certificates checked against the built-in CA in `{data_dir}/ca`)."""
    options: dict[str, Any] = {"ws": TlsWebSocketProtocol}
    if tls_enabled(settings):
        from volthub.security.ca import CertificateAuthority

        ca = CertificateAuthority.load_or_create(Path(settings.data_dir) / "ca")
        context = build_server_context(settings, ca.certificate_pem)
        options["ssl_context_factory"] = lambda _config, _default: context
    return options
