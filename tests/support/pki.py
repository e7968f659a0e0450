"""A test PKI for ISO 15118 certificate management: a CA (and a rogue CA with the same name),
good / revoked / unknown leaf certificates, and a loopback HTTP app that serves OCSP answers,
CRLs and a fake certificate provider — all made at test time with `cryptography`."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test V2G Root CA"),
                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test PKI")])
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512,
}


@dataclass
class Issued:
    """A certificate with its key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def serial_number(self) -> int:
        return self.cert.serial_number


def _ca(name: x509.Name) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def _leaf(issuer: Issued, cn: str, ocsp_signing: bool = False) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(issuer.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if ocsp_signing:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


@dataclass
class TestPki:
    __test__ = False

    ca: Issued
    rogue: Issued  # another key under the CA's very name: what it signs must not count
    good: x509.Certificate
    revoked: x509.Certificate
    unknown: x509.Certificate  # the responder knows nothing about it
    responder: Issued  # a delegated OCSP responder the CA certified
    rogue_responder: Issued  # an OCSP-signing certificate the rogue made under the CA's name

    @classmethod
    def create(cls) -> TestPki:
        ca, rogue = _ca(CA_NAME), _ca(CA_NAME)
        return cls(
            ca=ca, rogue=rogue,
            good=_leaf(ca, "good").cert, revoked=_leaf(ca, "revoked").cert,
            unknown=_leaf(ca, "unknown").cert,
            responder=_leaf(ca, "OCSP responder", ocsp_signing=True),
            rogue_responder=_leaf(rogue, "OCSP responder", ocsp_signing=True),
        )

    def hash_data(self, cert: x509.Certificate, algorithm: str = "SHA256") -> dict[str, str]:
        """OCPP CertificateHashData of `cert` (issued by the CA)."""
        request = ocsp.OCSPRequestBuilder().add_certificate(
            cert, self.ca.cert, HASHES[algorithm]()).build()
        return {"hashAlgorithm": algorithm,
                "issuerNameHash": request.issuer_name_hash.hex(),
                "issuerKeyHash": request.issuer_key_hash.hex(),
                "serialNumber": format(request.serial_number, "x")}

    # OCSP and CRL ------------------------------------------------------------------------
    def ocsp_response(self, request_der: bytes, signer: Issued, include: list[x509.Certificate],
                      by_name: bool = False) -> bytes:
        request = ocsp.load_der_ocsp_request(request_der)
        now = datetime.now(UTC).replace(microsecond=0)
        revocation: dict[str, Any] = {"revocation_time": None, "revocation_reason": None}
        if request.serial_number == self.good.serial_number:
            status = ocsp.OCSPCertStatus.GOOD
        elif request.serial_number == self.revoked.serial_number:
            status = ocsp.OCSPCertStatus.REVOKED
            revocation = {"revocation_time": now - timedelta(days=1),
                          "revocation_reason": x509.ReasonFlags.key_compromise}
        else:
            status = ocsp.OCSPCertStatus.UNKNOWN
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash, issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number, algorithm=request.hash_algorithm,
            cert_status=status, this_update=now - timedelta(minutes=1),
            next_update=now + timedelta(minutes=59), **revocation,
        ).responder_id(
            ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH,
            signer.cert,
        )
        if include:
            builder = builder.certificates(include)
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def crl(self, signer: Issued) -> x509.CertificateRevocationList:
        now = datetime.now(UTC)
        revoked = (x509.RevokedCertificateBuilder().serial_number(self.revoked.serial_number)
                   .revocation_date(now - timedelta(days=1)).build())
        return (x509.CertificateRevocationListBuilder().issuer_name(CA_NAME)
                .last_update(now - timedelta(hours=1)).next_update(now + timedelta(days=1))
                .add_revoked_certificate(revoked).sign(signer.key, hashes.SHA256()))


_OCSP = "application/ocsp-response"


def pki_app(pki: TestPki) -> Starlette:
    """OCSP responders, CRLs, a fake ISO 15118 certificate provider and misbehaving routes."""

    def responder(signer: Issued, include: list[x509.Certificate], by_name: bool = False) -> Any:
        async def answer(request: Request) -> Response:
            body = await request.body()
            return Response(pki.ocsp_response(body, signer, include, by_name), media_type=_OCSP)

        return answer

    async def garbage(_: Request) -> Response:
        return Response(b"this is not DER", media_type=_OCSP)

    async def unauthorized(_: Request) -> Response:
        der = ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
        return Response(der, media_type=_OCSP)

    async def slow(_: Request) -> Response:
        await asyncio.sleep(1.5)
        return PlainTextResponse("late")

    async def error(_: Request) -> Response:
        return PlainTextResponse("boom", status_code=500)

    def crl(signer: Issued, encoding: serialization.Encoding) -> Any:
        async def answer(_: Request) -> Response:
            return Response(pki.crl(signer).public_bytes(encoding),
                            media_type="application/pkix-crl")

        return answer

    async def provider(request: Request) -> Response:
        body = await request.json()
        app.state.provider_requests.append(body)
        exi = base64.b64decode(body["exiRequest"])
        return JSONResponse({
            "status": "Accepted",
            "exiResponse": base64.b64encode(b"CertificateInstallationRes for " + exi).decode(),
            "remainingContracts": 2,
        })

    async def provider_failed(_: Request) -> Response:
        return JSONResponse({"status": "Failed", "exiResponse": "",
                             "statusInfo": {"reasonCode": "NoContract",
                                            "additionalInfo": "no contract for this EMAID"}})

    async def provider_not_json(_: Request) -> Response:
        return PlainTextResponse("certainly not JSON")

    async def provider_bad_exi(_: Request) -> Response:
        return JSONResponse({"status": "Accepted", "exiResponse": "not base64 at all!"})

    any_method = ["GET", "POST"]
    app = Starlette(routes=[
        Route("/ocsp/ca", responder(pki.ca, [pki.ca.cert]), methods=["POST"]),
        Route("/ocsp/ca-bare", responder(pki.ca, []), methods=["POST"]),
        Route("/ocsp/delegated", responder(pki.responder, [pki.responder.cert], by_name=True),
              methods=["POST"]),
        Route("/ocsp/forged", responder(pki.rogue, [pki.rogue.cert], by_name=True),
              methods=["POST"]),
        Route("/ocsp/forged-delegated",
              responder(pki.rogue_responder, [pki.rogue_responder.cert], by_name=True),
              methods=["POST"]),
        Route("/ocsp/garbage", garbage, methods=["POST"]),
        Route("/ocsp/unauthorized", unauthorized, methods=["POST"]),
        Route("/slow", slow, methods=any_method),
        Route("/error", error, methods=any_method),
        Route("/crl.der", crl(pki.ca, serialization.Encoding.DER), methods=["GET"]),
        Route("/crl.pem", crl(pki.ca, serialization.Encoding.PEM), methods=["GET"]),
        Route("/crl-forged", crl(pki.rogue, serialization.Encoding.DER), methods=["GET"]),
        Route("/provider", provider, methods=["POST"]),
        Route("/provider/failed", provider_failed, methods=["POST"]),
        Route("/provider/not-json", provider_not_json, methods=["POST"]),
        Route("/provider/bad-exi", provider_bad_exi, methods=["POST"]),
    ])
    app.state.provider_requests = []
    return app


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` on an ephemeral loopback port in the test's loop; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("test PKI server did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
