"""Admin API: /id-tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response

from volthub.api.deps import PagingDep, ServicesDep
from volthub.api.schemas import IdTokenCreate, IdTokenOut, IdTokenPatch, Page
from volthub.domain.model import IdToken

router = APIRouter(prefix="/id-tokens", tags=["id-tokens"])


@router.get("", response_model=Page[IdTokenOut])
async def list_tokens(services: ServicesDep, paging: PagingDep) -> Page[IdTokenOut]:
    tokens, total = await services.tokens.list(paging.limit, paging.offset)
    return Page(items=[IdTokenOut.of(t) for t in tokens], total=total, limit=paging.limit,
                offset=paging.offset)


@router.post("", response_model=IdTokenOut, status_code=201)
async def create_token(body: IdTokenCreate, services: ServicesDep) -> IdTokenOut:
    token = IdToken(id_token=body.id_token, type=body.type, status=body.status,
                    expires_at=body.expires_at, group_id=body.group_id)
    return IdTokenOut.of(await services.tokens.create(token))


@router.get("/{id_token}", response_model=IdTokenOut)
async def get_token(id_token: str, services: ServicesDep) -> IdTokenOut:
    return IdTokenOut.of(await services.tokens.get(id_token))


@router.patch("/{id_token}", response_model=IdTokenOut)
async def patch_token(id_token: str, body: IdTokenPatch, services: ServicesDep) -> IdTokenOut:
    return IdTokenOut.of(await services.tokens.update(id_token,
                                                      body.model_dump(exclude_unset=True)))


@router.delete("/{id_token}", status_code=204)
async def delete_token(id_token: str, services: ServicesDep) -> Response:
    await services.tokens.delete(id_token)
    return Response(status_code=204)
