"""Maps domain errors and validation failures to the admin API's `{"detail": ...}` answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from volthub.domain import errors

STATUS = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unsupported: 422,
    errors.InvalidInput: 422,
    errors.StationTimeout: 504,
    errors.StationError: 502,
}


def describe_validation_errors(errs: list[Any]) -> str:
    """'body.id: Field required; query.limit: ...' — every message names its field."""
    parts = []
    for err in errs:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe_validation_errors(list(exc.errors()))}, 422)

    @app.exception_handler(errors.DomainError)
    async def _domain(_: Request, exc: errors.DomainError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        return JSONResponse({"detail": str(exc)}, status)
