"""Operator management of id tokens."""

from __future__ import annotations

import builtins
from typing import Any

from volthub.domain.errors import Conflict, NotFound
from volthub.domain.model import IdToken
from volthub.services.events import DomainEvents
from volthub.storage.interface import Repositories, Storage


class TokenService:
    """Use cases of the id-tokens resource of the admin API."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.events = DomainEvents()

    async def get(self, id_token: str) -> IdToken:
        token = await self.storage.read(lambda r: r.get_token(id_token))
        if token is None:
            raise NotFound(f"id_token {id_token!r} not found")
        return token

    async def list(self, limit: int, offset: int) -> tuple[builtins.list[IdToken], int]:
        return await self.storage.read(lambda r: r.list_tokens(limit, offset))

    async def create(self, token: IdToken) -> IdToken:
        async def op(repos: Repositories) -> None:
            if await repos.get_token(token.id_token) is not None:
                raise Conflict(f"id_token {token.id_token!r} already exists")
            await repos.insert_token(token)

        await self.storage.write(op)
        self.events.emit("token_changed", token.id_token)
        return await self.get(token.id_token)

    async def update(self, id_token: str, fields: dict[str, Any]) -> IdToken:
        columns = {k: (v.value if hasattr(v, "value") else v) for k, v in fields.items()}

        async def op(repos: Repositories) -> None:
            if not await repos.update_token(id_token, columns):
                raise NotFound(f"id_token {id_token!r} not found")

        await self.storage.write(op)
        self.events.emit("token_changed", id_token)
        return await self.get(id_token)

    async def delete(self, id_token: str) -> None:
        async def op(repos: Repositories) -> None:
            if not await repos.delete_token(id_token):
                raise NotFound(f"id_token {id_token!r} not found")

        await self.storage.write(op)
        self.events.emit("token_changed", id_token)
