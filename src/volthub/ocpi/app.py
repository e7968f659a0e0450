"""The OCPI application mounted at /ocpi: routers, envelopes for every error, request ids."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from volthub.api.errors import describe_validation_errors
from volthub.domain import errors
from volthub.ocpi.envelope import OcpiError, OcpiStatus, envelope
from volthub.ocpi.modules import (
    cpo_cdrs,
    cpo_chargingprofiles,
    cpo_commands,
    cpo_hubclientinfo,
    cpo_locations,
    cpo_sessions,
    cpo_tariffs,
    cpo_tokens,
    credentials,
    emsp_cdrs,
    emsp_commands,
    emsp_locations,
    emsp_sessions,
    emsp_tariffs,
    emsp_tokens,
    versions,
)

log = logging.getLogger("volthub.ocpi")


def create_ocpi_app() -> FastAPI:
    app = FastAPI(title="volthub OCPI 2.2.1", openapi_url=None, docs_url=None, redoc_url=None)
    for module in (versions, credentials):
        app.include_router(module.router)
    for module in (cpo_locations, cpo_sessions, cpo_cdrs, cpo_tariffs, cpo_tokens, cpo_commands,
                   cpo_chargingprofiles, cpo_hubclientinfo):
        app.include_router(module.router, prefix="/cpo/2.2.1")
    for module in (emsp_locations, emsp_sessions, emsp_cdrs, emsp_tariffs, emsp_tokens,
                   emsp_commands):
        app.include_router(module.router, prefix="/emsp/2.2.1")
    _install_error_handlers(app)

    @app.middleware("http")
    async def request_ids(request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        # transport_and_format §Unique message IDs: the response carries the request's
        # X-Request-ID and X-Correlation-ID.
        for header in ("X-Request-ID", "X-Correlation-ID"):
            response.headers[header] = request.headers.get(header) or str(uuid.uuid4())
        # §Message routing: a direct response goes back to the requesting party, from us.
        sender = (request.headers.get("ocpi-from-country-code"),
                  request.headers.get("ocpi-from-party-id"))
        if all(sender):
            container = getattr(request.app.state, "container", None)
            if container is not None:
                identity = container.roaming.identity
                response.headers["OCPI-to-country-code"] = str(sender[0])
                response.headers["OCPI-to-party-id"] = str(sender[1])
                response.headers["OCPI-from-country-code"] = identity.country_code
                response.headers["OCPI-from-party-id"] = identity.party_id
        return response

    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OcpiError)
    async def _ocpi(_: Request, exc: OcpiError) -> JSONResponse:
        return JSONResponse(envelope(exc.data, exc.status, exc.message),
                            status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = list(exc.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            # status_codes: a body that is not JSON is an HTTP 400.
            return JSONResponse(envelope(None, OcpiStatus.CLIENT_ERROR, "body is not valid JSON"),
                                status_code=400)
        return JSONResponse(envelope(None, OcpiStatus.INVALID_PARAMETERS,
                                     describe_validation_errors(problems)))

    @app.exception_handler(errors.NotFound)
    async def _not_found(_: Request, exc: errors.NotFound) -> JSONResponse:
        return JSONResponse(envelope(None, OcpiStatus.CLIENT_ERROR, str(exc)), status_code=404)

    @app.exception_handler(errors.DomainError)
    async def _domain(_: Request, exc: errors.DomainError) -> JSONResponse:
        return JSONResponse(envelope(None, OcpiStatus.CLIENT_ERROR, str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(envelope(None, OcpiStatus.CLIENT_ERROR, str(exc.detail)),
                            status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("OCPI request failed", exc_info=exc)
        return JSONResponse(envelope(None, OcpiStatus.SERVER_ERROR, "internal error"))
