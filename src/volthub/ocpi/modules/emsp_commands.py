"""OCPI 2.2.1 commands, eMSP role: the Sender interface receiving the asynchronous
CommandResult at the response_url we gave (mod_commands §Sender interface)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.ocpi import schemas
from volthub.ocpi.emsp import CommandSender, parse
from volthub.ocpi.envelope import not_found, ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming

router = APIRouter()


@router.post("/commands/{command}/{uid}")
async def command_result(request: Request, caller: ModuleCaller, command: str, uid: str,
                         body: Any = Body(...)) -> JSONResponse:
    """Our response_url is /commands/{command}/{uid}; only the partner we sent that command
    to may answer on it."""
    result = parse(schemas.CommandResult, body)
    recorded = await CommandSender(roaming(request)).record_result(
        uid, command, caller.partner.id, result)
    if not recorded:
        raise not_found(f"unknown command {command}/{uid}")
    return ocpi_response(None)
