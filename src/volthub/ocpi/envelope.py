"""The OCPI response envelope, status codes and the errors that become them (status_codes)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from fastapi.responses import JSONResponse

from volthub.ocpi.schemas import format_ocpi_datetime


class OcpiStatus(IntEnum):
    """OCPI 2.2.1 status_codes §1xxx-3xxx."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    CLIENT_API_UNUSABLE = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003


class OcpiError(Exception):
    """An answer other than success. status_codes: a request that reached the OCPI layer gets
    HTTP 200 with the OCPI code, except 401 (auth), 404 (GET of an unknown object), 400
    (not JSON) and 405 (credentials in the wrong state)."""

    def __init__(self, status: OcpiStatus, message: str, http_status: int = 200,
                 data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status
        self.data = data


def unauthorized(message: str) -> OcpiError:
    # transport_and_format §Authorization: a missing or unknown token is HTTP 401.
    return OcpiError(OcpiStatus.CLIENT_ERROR, message, http_status=401)


def not_found(message: str) -> OcpiError:
    return OcpiError(OcpiStatus.UNKNOWN_LOCATION if "location" in message.lower()
                     else OcpiStatus.CLIENT_ERROR, message, http_status=404)


def invalid(message: str) -> OcpiError:
    return OcpiError(OcpiStatus.INVALID_PARAMETERS, message)


def ocpi_timestamp(at: datetime | None = None) -> str:
    """types §DateTime: UTC, `Z`, no offset."""
    return format_ocpi_datetime(at or datetime.now(UTC))


def envelope(data: Any, status: int = OcpiStatus.SUCCESS, message: str | None = None,
             at: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": int(status), "timestamp": ocpi_timestamp(at)}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message[:255]
    return body


def ocpi_response(data: Any, status: int = OcpiStatus.SUCCESS, message: str | None = None,
                  http_status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(envelope(data, status, message), status_code=http_status,
                        headers=headers)
