"""ISO 15118 certificate management on the CSMS side (OCPP 2.0.1 block M, OCPP 2.1).

- Get15118EVCertificate: the EV's EXI CertificateInstallationReq/CertificateUpdateReq is not
  parsed here; it is forwarded to an operator-configured certificate provider (their PKI or
  Hubject adapter) over a small JSON-over-HTTP contract, documented in README.md:

      POST <iso15118_cert_provider_url>            Content-Type: application/json
      {"stationId": "CS1", "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
       "action": "Install" | "Update", "exiRequest": "<base64>", ...other request fields}
      -> 200 {"status": "Accepted" | "Failed", "exiResponse": "<base64>",
              "statusInfo": {"reasonCode": "...", "additionalInfo": "..."},   (optional)
              "remainingContracts": 0}                                         (optional, 2.1)

  Anything else (no URL configured, timeout, connection error, non-200, malformed body) is
  answered Failed with a reason.
- GetCertificateStatus: a real OCSP request (RFC 6960) built from the hashes the station sent,
  POSTed to its responderURL; a SUCCESSFUL OCSP response is handed back DER+base64 unchanged,
  since the station checks the signature and reads good/revoked itself.
- GetCertificateChainStatus (2.1): the CSMS decides Good/Revoked/Unknown itself, so here OCSP
  responses are verified (signed by the issuer, or by a delegated OCSP responder that the
  issuer certified) and CRLs are fetched and checked against the issuer. The issuer's key is
  recognised by the hashes the station sent; certificates the responder includes are used, and
  `iso15118_trust_bundle` (PEM) supplies issuers that responders and CRLs do not carry.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from volthub.config import Settings
from volthub.services.ports import Clock, utc_now

log = logging.getLogger("volthub.iso15118")

HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}
# GetCertificateStatusResponse.ocspResult maxLength: 5500 in 2.0.1, 18000 in 2.1.
OCSP_RESULT_MAX_201 = 5500
OCSP_RESULT_MAX_21 = 18000
# Get15118EVCertificateResponse.exiResponse maxLength: 7500 in 2.0.1, 17000 in 2.1.
EXI_RESPONSE_MAX_201 = 7500
EXI_RESPONSE_MAX_21 = 17000
MAX_HTTP_BODY = 1 << 20  # provider answers and OCSP responses
MAX_CRL_BODY = 32 << 20
CLOCK_SKEW = timedelta(minutes=5)
VENDOR_ID = "volthub"  # customData.vendorId for the reason given with a chain status entry
_ADDITIONAL_INFO_MAX = 512  # StatusInfoType.additionalInfo in 2.0.1 (1024 in 2.1)
_REASON_CODE_MAX = 20


class _Failure(Exception):
    """Why a request could not be answered: an OCPP reason code plus a readable reason."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


def _status_info(reason_code: str | None, reason: str | None) -> dict[str, str] | None:
    if reason is None and reason_code is None:
        return None
    info = {"reasonCode": (reason_code or "Unspecified")[:_REASON_CODE_MAX]}
    if reason:
        info["additionalInfo"] = reason[:_ADDITIONAL_INFO_MAX]
    return info


@dataclass(slots=True, frozen=True)
class EvCertificateResult:
    """The answer to Get15118EVCertificate; `status_info()` is the OCPP StatusInfoType."""

    status: str  # Accepted | Failed
    exi_response: str  # base64, "" when there is none
    reason: str | None = None
    reason_code: str | None = None
    remaining_contracts: int | None = None  # 2.1 only

    def status_info(self) -> dict[str, str] | None:
        return _status_info(self.reason_code, self.reason)


@dataclass(slots=True, frozen=True)
class CertificateStatusResult:
    """The answer to GetCertificateStatus; `status_info()` is the OCPP StatusInfoType."""

    status: str  # Accepted | Failed
    ocsp_result: str | None  # base64 DER OCSPResponse when Accepted
    reason: str | None = None
    reason_code: str | None = None

    def status_info(self) -> dict[str, str] | None:
        return _status_info(self.reason_code, self.reason)


@dataclass(slots=True, frozen=True)
class _CertId:
    """The CertID of RFC 6960 as the station describes it (hex hashes and serial)."""

    algorithm_name: str
    algorithm: hashes.HashAlgorithm
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial_number: int

    @classmethod
    def parse(cls, data: dict[str, Any]) -> _CertId:
        name = str(data.get("hashAlgorithm", ""))
        algorithm_type = HASH_ALGORITHMS.get(name.upper())
        if algorithm_type is None:
            raise _Failure("InvalidValue", f"unsupported hashAlgorithm {name!r}")
        algorithm = algorithm_type()
        try:
            name_hash = bytes.fromhex(str(data.get("issuerNameHash", "")))
            key_hash = bytes.fromhex(str(data.get("issuerKeyHash", "")))
        except ValueError as exc:
            raise _Failure("InvalidValue", "issuerNameHash and issuerKeyHash must be hex") from exc
        if len(name_hash) != algorithm.digest_size or len(key_hash) != algorithm.digest_size:
            raise _Failure("InvalidValue", f"issuerNameHash and issuerKeyHash must be "
                                           f"{algorithm.digest_size}-byte {name} hashes")
        serial_hex = str(data.get("serialNumber", "")).strip()
        serial_hex = serial_hex[2:] if serial_hex.lower().startswith("0x") else serial_hex
        try:
            serial = int(serial_hex, 16)
        except ValueError as exc:
            raise _Failure("InvalidValue", f"serialNumber {serial_hex!r} is not hex") from exc
        if serial < 0:
            raise _Failure("InvalidValue", "serialNumber must not be negative")
        return cls(name.upper(), algorithm, name_hash, key_hash, serial)

    def ocsp_request(self) -> bytes:
        builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            self.issuer_name_hash, self.issuer_key_hash, self.serial_number, self.algorithm
        )
        return builder.build().public_bytes(serialization.Encoding.DER)

    def is_issuer(self, cert: x509.Certificate) -> bool:
        """Whether `cert` is the issuer these hashes name (its subject and public key)."""
        return (_digest(self.algorithm, cert.subject.public_bytes()) == self.issuer_name_hash
                and _key_hash(self.algorithm, cert) == self.issuer_key_hash)

    def covers(self, single: ocsp.OCSPSingleResponse, issuers: Sequence[x509.Certificate]) -> bool:
        """Whether an OCSP single response is about this certificate."""
        if single.serial_number != self.serial_number:
            return False
        if single.hash_algorithm.name == self.algorithm.name:
            return (single.issuer_name_hash == self.issuer_name_hash
                    and single.issuer_key_hash == self.issuer_key_hash)
        # The responder answered with another hash (often SHA-1): compare through the issuer.
        for issuer in issuers:
            algorithm = single.hash_algorithm
            if (_digest(algorithm, issuer.subject.public_bytes()) == single.issuer_name_hash
                    and _key_hash(algorithm, issuer) == single.issuer_key_hash):
                return True
        return False


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _key_hash(algorithm: hashes.HashAlgorithm, cert: x509.Certificate) -> bytes | None:
    """The hash of the certificate's public key bits; None for a key this library can't read."""
    try:
        return _digest(algorithm, _public_key_bits(cert))
    except (ValueError, IndexError, UnsupportedAlgorithm):
        return None


def _der_item(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER item at `offset`."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, start, end


def _public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING value, which RFC 6960's issuerKeyHash is taken over."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    _, start, _ = _der_item(spki, 0)  # SubjectPublicKeyInfo SEQUENCE
    _, _, alg_end = _der_item(spki, start)  # AlgorithmIdentifier
    tag, bits_start, bits_end = _der_item(spki, alg_end)
    if tag != 0x03:
        raise ValueError("no BIT STRING in SubjectPublicKeyInfo")
    return spki[bits_start + 1:bits_end]  # skip the unused-bits byte


def _verify_signature(cert: x509.Certificate, signature: bytes, data: bytes,
                      algorithm: hashes.HashAlgorithm | None) -> None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidSignature("unreadable public key") from None
    if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
        key.verify(signature, data, ec.ECDSA(algorithm))
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(signature, data)
    else:
        raise InvalidSignature("unsupported signature algorithm")


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc - CLOCK_SKEW <= now <= cert.not_valid_after_utc + CLOCK_SKEW


def _is_ocsp_signer(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in eku


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url_host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url


def _check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise _Failure("InvalidURL", f"invalid URL {url!r}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _Failure("InvalidURL", f"invalid URL {url!r}: need an http(s) URL with a host")
    return url


def load_trust_bundle(path: str | None) -> list[x509.Certificate]:
    """The certificates of a PEM bundle (none when `path` is unset)."""
    if not path:
        return []
    try:
        return x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"VOLTHUB_ISO15118_TRUST_BUNDLE {path!r}: not a readable PEM "
                         f"certificate bundle ({exc})") from exc


class Iso15118Service:
    """Block M on the CSMS side: EV contract certificates, OCSP and CRL status look-ups."""

    def __init__(self, *, cert_provider_url: str | None = None,
                 cert_provider_timeout_s: float = 10.0, ocsp_timeout_s: float = 10.0,
                 trusted_issuers: Sequence[x509.Certificate] = (),
                 clock: Clock = utc_now, client: httpx.AsyncClient | None = None) -> None:
        self._provider_url = cert_provider_url or None
        self._provider_timeout_s = cert_provider_timeout_s
        self._ocsp_timeout_s = ocsp_timeout_s
        self._trusted = list(trusted_issuers)
        self._clock = clock
        self._client = client
        self._owns_client = client is None

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utc_now,
                      client: httpx.AsyncClient | None = None) -> Iso15118Service:
        return cls(cert_provider_url=settings.iso15118_cert_provider_url,
                   cert_provider_timeout_s=settings.iso15118_cert_provider_timeout_s,
                   ocsp_timeout_s=settings.ocsp_timeout_s,
                   trusted_issuers=load_trust_bundle(settings.iso15118_trust_bundle),
                   clock=clock, client=client)

    async def aclose(self) -> None:
        """Close the HTTP client if this service created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        return self._client

    async def _fetch(self, method: str, url: str, *, what: str, timeout_s: float,
                     limit: int, **kwargs: Any) -> bytes:
        """The body of a 200 answer, or a _Failure saying what went wrong."""
        host = _url_host(url)
        try:
            async with asyncio.timeout(timeout_s):
                async with self._http().stream(method, url, timeout=timeout_s, **kwargs) as resp:
                    if resp.status_code != 200:
                        raise _Failure("Unspecified",
                                       f"{what} at {host} answered HTTP {resp.status_code}")
                    body = bytearray()
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise _Failure("TooLargeElement",
                                           f"{what} at {host} answered more than {limit} bytes")
                    return bytes(body)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _Failure("Unspecified",
                           f"{what} at {host} did not answer within {timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise _Failure("Unspecified",
                           f"{what} at {host} unreachable: {type(exc).__name__}: {exc}") from exc

    # --- Get15118EVCertificate --------------------------------------------------------------

    async def get_ev_certificate(self, station_id: str, schema_version: str, action: str,
                                 exi_request: str, extra: dict[str, Any] | None = None,
                                 ) -> tuple[str, str, str | None]:
        """(status Accepted|Failed, exiResponse base64 or "", reason or None)."""
        result = await self.ev_certificate(station_id, schema_version, action, exi_request, extra)
        return result.status, result.exi_response, result.reason

    async def ev_certificate(self, station_id: str, schema_version: str, action: str,
                             exi_request: str, extra: dict[str, Any] | None = None, *,
                             max_exi_response: int | None = None) -> EvCertificateResult:
        """Forward the EV's request to the certificate provider; never raises."""
        try:
            return await self._ev_certificate(station_id, schema_version, action, exi_request,
                                              extra or {}, max_exi_response)
        except _Failure as failure:
            log.warning("Get15118EVCertificate for %s failed: %s", station_id, failure.reason)
            return EvCertificateResult("Failed", "", failure.reason, failure.reason_code)
        except Exception:
            log.exception("Get15118EVCertificate for %s failed", station_id)
            return EvCertificateResult("Failed", "", "internal error", "InternalError")

    async def _ev_certificate(self, station_id: str, schema_version: str, action: str,
                              exi_request: str, extra: dict[str, Any],
                              max_exi_response: int | None) -> EvCertificateResult:
        if self._provider_url is None:
            raise _Failure("NotEnabled", "no certificate provider configured")
        try:
            url = _check_url(self._provider_url)
        except _Failure as failure:  # the reason would show the URL, maybe with credentials
            raise _Failure("InternalError", "certificate provider URL is invalid") from failure
        payload = {k: v for k, v in extra.items() if k != "customData"}
        payload.update(stationId=station_id, iso15118SchemaVersion=schema_version,
                       action=action, exiRequest=exi_request)
        body = await self._fetch("POST", url, what="certificate provider",
                                 timeout_s=self._provider_timeout_s, limit=MAX_HTTP_BODY,
                                 json=payload, headers={"Accept": "application/json"})
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise _Failure("Unspecified", "certificate provider answered no JSON") from exc
        if not isinstance(answer, dict):
            raise _Failure("Unspecified", "certificate provider answered no JSON object")
        status = answer.get("status")
        exi_response = answer.get("exiResponse", "")
        if status not in ("Accepted", "Failed") or not isinstance(exi_response, str):
            raise _Failure("Unspecified", "certificate provider answer lacks status "
                                          "Accepted|Failed or a string exiResponse")
        try:
            base64.b64decode(exi_response, validate=True)
        except binascii.Error as exc:
            raise _Failure("Unspecified", "certificate provider's exiResponse is not base64") from exc
        if max_exi_response is not None and len(exi_response) > max_exi_response:
            raise _Failure("TooLargeElement", f"certificate provider's exiResponse is longer than "
                                              f"{max_exi_response} characters")
        remaining = answer.get("remainingContracts")
        if not isinstance(remaining, int) or isinstance(remaining, bool) or remaining < 0:
            remaining = None
        if status == "Accepted":
            if not exi_response:
                raise _Failure("Unspecified", "certificate provider accepted without exiResponse")
            return EvCertificateResult("Accepted", exi_response, remaining_contracts=remaining)
        info = answer.get("statusInfo")
        code, reason = "Unspecified", "certificate provider answered Failed"
        if isinstance(info, dict):
            code = str(info.get("reasonCode") or code)
            reason = str(info.get("additionalInfo") or f"{reason} ({code})")
        return EvCertificateResult("Failed", exi_response, reason, code, remaining)

    # --- GetCertificateStatus ---------------------------------------------------------------

    async def get_certificate_status(self, ocsp_request_data: dict[str, Any],
                                     ) -> tuple[str, str | None, str | None]:
        """(status Accepted|Failed, ocspResult base64 DER or None, reason or None)."""
        result = await self.certificate_status(ocsp_request_data)
        return result.status, result.ocsp_result, result.reason

    async def certificate_status(self, ocsp_request_data: dict[str, Any], *,
                                 max_ocsp_result: int = OCSP_RESULT_MAX_201,
                                 ) -> CertificateStatusResult:
        """Ask the responder the station named; hand back its SUCCESSFUL answer; never raises."""
        try:
            cert_id = _CertId.parse(ocsp_request_data)
            url = _check_url(str(ocsp_request_data.get("responderURL") or ""))
            response, der = await self._ocsp_query(cert_id, url)
            if not any(s.serial_number == cert_id.serial_number for s in response.responses):
                raise _Failure("NotFound", "OCSP response does not cover the requested certificate")
            result = base64.b64encode(der).decode("ascii")
            if len(result) > max_ocsp_result:
                raise _Failure("TooLargeElement", f"OCSP response is longer than {max_ocsp_result} "
                                                  f"base64 characters")
            return CertificateStatusResult("Accepted", result)
        except _Failure as failure:
            log.warning("OCSP look-up failed: %s", failure.reason)
            return CertificateStatusResult("Failed", None, failure.reason, failure.reason_code)
        except Exception:
            log.exception("OCSP look-up failed")
            return CertificateStatusResult("Failed", None, "internal error", "InternalError")

    async def _ocsp_query(self, cert_id: _CertId, url: str) -> tuple[ocsp.OCSPResponse, bytes]:
        """A SUCCESSFUL, parsed OCSP response and its DER, or a _Failure."""
        der = await self._fetch("POST", url, what="OCSP responder", timeout_s=self._ocsp_timeout_s,
                                limit=MAX_HTTP_BODY, content=cert_id.ocsp_request(),
                                headers={"Content-Type": "application/ocsp-request",
                                         "Accept": "application/ocsp-response"})
        host = _url_host(url)
        try:
            response = ocsp.load_der_ocsp_response(der)
        except ValueError as exc:
            raise _Failure("Unspecified", f"OCSP responder at {host} answered no OCSP response"
                           ) from exc
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise _Failure("Unspecified", f"OCSP responder at {host} answered "
                                          f"{response.response_status.name}")
        try:
            list(response.responses)  # parses the basic response
        except ValueError as exc:
            raise _Failure("Unspecified", f"OCSP response from {host} does not parse") from exc
        return response, der

    # --- GetCertificateChainStatus (2.1) ----------------------------------------------------

    async def get_certificate_chain_status(self, requests: list[dict[str, Any]],
                                           ) -> list[dict[str, Any]]:
        """certificateStatus entries (OCPP 2.1 CertificateStatusType), one per request entry."""
        return list(await asyncio.gather(*(self._chain_entry(r) for r in requests)))

    async def _chain_entry(self, request: dict[str, Any]) -> dict[str, Any]:
        hash_data = dict(request.get("certificateHashData") or {})
        source = request.get("source")
        urls = [str(u) for u in request.get("urls") or []]
        entry: dict[str, Any] = {"certificateHashData": hash_data,
                                 "source": source if source in ("OCSP", "CRL") else "OCSP"}
        try:
            return await self._chain_entry_status(entry, hash_data, source, urls)
        except Exception:
            log.exception("certificate status (%s) failed", entry["source"])
            return self._failed_entry(entry, _Failure("InternalError", "internal error"))

    def _failed_entry(self, entry: dict[str, Any], failure: _Failure) -> dict[str, Any]:
        entry.update(status="Failed", nextUpdate=_format_time(self._clock()),
                     customData={"vendorId": VENDOR_ID, "reasonCode": failure.reason_code,
                                 "additionalInfo": failure.reason[:_ADDITIONAL_INFO_MAX]})
        return entry

    async def _chain_entry_status(self, entry: dict[str, Any], hash_data: dict[str, Any],
                                  source: Any, urls: list[str]) -> dict[str, Any]:
        try:
            cert_id = _CertId.parse(hash_data)
            if source not in ("OCSP", "CRL"):
                raise _Failure("InvalidValue", f"unknown status source {source!r}")
            if not urls:
                raise _Failure("MissingParam", f"no {source} URL given")
            failures: list[_Failure] = []
            for url in urls:
                try:
                    if source == "OCSP":
                        status, next_update = await self._ocsp_status(cert_id, url)
                    else:
                        status, next_update = await self._crl_status(cert_id, url)
                except _Failure as failure:
                    failures.append(failure)
                    continue
                entry.update(status=status, nextUpdate=_format_time(next_update))
                return entry
            raise failures[-1] if len(failures) == 1 else _Failure(
                failures[-1].reason_code, "; ".join(f.reason for f in failures))
        except _Failure as failure:
            log.warning("certificate status (%s) failed: %s", entry["source"], failure.reason)
            return self._failed_entry(entry, failure)

    async def _ocsp_status(self, cert_id: _CertId, url: str) -> tuple[str, datetime]:
        _check_url(url)
        response, _ = await self._ocsp_query(cert_id, url)
        host = _url_host(url)
        now = self._clock()
        known = [*response.certificates, *self._trusted]
        issuers = [c for c in known if cert_id.is_issuer(c)]
        single = next((s for s in response.responses if cert_id.covers(s, issuers)), None)
        if single is None:
            raise _Failure("NotFound", f"OCSP response from {host} does not cover the certificate")
        self._verify_ocsp_signer(response, cert_id, known, issuers, now, host)
        if single.this_update_utc > now + CLOCK_SKEW:
            raise _Failure("InvalidValue", f"OCSP response from {host} is dated in the future")
        if single.next_update_utc is not None and single.next_update_utc < now - CLOCK_SKEW:
            raise _Failure("InvalidValue", f"OCSP response from {host} is out of date")
        status = {ocsp.OCSPCertStatus.GOOD: "Good", ocsp.OCSPCertStatus.REVOKED: "Revoked",
                  ocsp.OCSPCertStatus.UNKNOWN: "Unknown"}[single.certificate_status]
        return status, single.next_update_utc or now

    def _verify_ocsp_signer(self, response: ocsp.OCSPResponse, cert_id: _CertId,
                            known: list[x509.Certificate], issuers: list[x509.Certificate],
                            now: datetime, host: str) -> None:
        """The response is signed by the issuer or by an OCSP responder the issuer certified."""
        if response.responder_name is not None:
            signers = [c for c in known if c.subject == response.responder_name]
        else:
            key_hash = response.responder_key_hash
            signers = [c for c in known if _key_hash(hashes.SHA1(), c) == key_hash]
        try:
            algorithm = response.signature_hash_algorithm
        except UnsupportedAlgorithm as exc:
            raise _Failure("InvalidCertificate", f"OCSP response from {host}: unsupported "
                                                 f"signature algorithm") from exc
        for signer in signers:
            try:
                _verify_signature(signer, response.signature, response.tbs_response_bytes, algorithm)
            except InvalidSignature:
                continue
            if cert_id.is_issuer(signer):
                return  # signed with the issuer's own key
            if not (_is_ocsp_signer(signer) and _valid_at(signer, now)):
                continue
            for issuer in issuers:
                try:
                    signer.verify_directly_issued_by(issuer)
                except (ValueError, TypeError, InvalidSignature):
                    continue
                return
        hint = "" if issuers else " (issuer unknown: add it to the ISO 15118 trust bundle)"
        raise _Failure("InvalidCertificate",
                       f"OCSP response from {host} is not signed by the issuer or its responder{hint}")

    async def _crl_status(self, cert_id: _CertId, url: str) -> tuple[str, datetime]:
        _check_url(url)
        host = _url_host(url)
        body = await self._fetch("GET", url, what="CRL distribution point",
                                 timeout_s=self._ocsp_timeout_s, limit=MAX_CRL_BODY)
        try:
            if body.lstrip().startswith(b"-----BEGIN"):
                crl = x509.load_pem_x509_crl(body)
            else:
                crl = x509.load_der_x509_crl(body)
        except ValueError as exc:
            raise _Failure("Unspecified", f"CRL from {host} does not parse") from exc
        if _digest(cert_id.algorithm, crl.issuer.public_bytes()) != cert_id.issuer_name_hash:
            raise _Failure("InvalidValue", f"CRL from {host} is not issued by the certificate's issuer")
        issuers = [c for c in self._trusted if cert_id.is_issuer(c)]
        if not issuers:
            raise _Failure("InvalidCertificate", f"CRL from {host} cannot be checked: issuer not in "
                                                 f"the ISO 15118 trust bundle")
        try:
            signed = any(crl.is_signature_valid(i.public_key()) for i in issuers)  # type: ignore[arg-type]
        except (TypeError, UnsupportedAlgorithm):
            signed = False
        if not signed:
            raise _Failure("InvalidCertificate", f"CRL from {host} is not signed by the issuer")
        now = self._clock()
        if crl.next_update_utc is not None and crl.next_update_utc < now - CLOCK_SKEW:
            raise _Failure("InvalidValue", f"CRL from {host} is out of date")
        revoked = crl.get_revoked_certificate_by_serial_number(cert_id.serial_number)
        return ("Revoked" if revoked is not None else "Good"), crl.next_update_utc or now
