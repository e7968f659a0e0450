"""Shared dependencies of the admin API: the container, bearer auth, pagination."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from volthub.services.passwords import hash_token
from volthub.wiring import Container, Services

_bearer = HTTPBearer(auto_error=False)


def container(request: Request) -> Container:
    result: Container = request.app.state.container
    return result


def services(request: Request) -> Services:
    return container(request).services


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = container(request).admin_token_sha256
    if credentials is None or credentials.scheme.lower() != "bearer" or not hmac.compare_digest(
        hash_token(credentials.credentials), expected
    ):
        raise HTTPException(401, "missing or wrong bearer token in Authorization header",
                            headers={"WWW-Authenticate": "Bearer"})


@dataclass(slots=True, frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Paging:
    return Paging(limit, offset)


ServicesDep = Annotated[Services, Depends(services)]
PagingDep = Annotated[Paging, Depends(paging)]
