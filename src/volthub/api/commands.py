"""Admin API: version-neutral commands and raw OCPP calls to a connected station."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import ValidationError

from volthub.api.deps import ServicesDep
from volthub.api.errors import describe_validation_errors
from volthub.api.schemas import CommandOut
from volthub.domain.commands import COMMANDS, parse_command
from volthub.domain.errors import InvalidInput, NotFound

router = APIRouter(prefix="/stations/{station_id}", tags=["commands"])


@router.post("/commands/{name}", response_model=CommandOut, response_model_exclude_defaults=True,
             description="Commands: " + ", ".join(sorted(COMMANDS)))
async def run_command(
    station_id: str, name: str, services: ServicesDep,
    body: dict[str, Any] | None = Body(default=None),
) -> CommandOut:
    if name not in COMMANDS:
        raise NotFound(f"command {name!r} not found; known: {', '.join(sorted(COMMANDS))}")
    try:
        command = parse_command(name, body or {})
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(list(exc.errors()))) from exc
    outcome = await services.commands.execute(station_id, command)
    return CommandOut(status=outcome.status, response=outcome.response, data=outcome.data)


@router.post("/ocpp/{action}", response_model=dict[str, Any])
async def raw_call(
    station_id: str, action: str, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    return await services.commands.send_raw(station_id, action, body)
