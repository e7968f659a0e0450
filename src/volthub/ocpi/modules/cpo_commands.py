"""OCPI 2.2.1 commands module, CPO role: the Receiver interface (POST /commands/{command})."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.ocpi.commands_cpo import Answer, CpoCommands
from volthub.ocpi.envelope import OcpiError, OcpiStatus, ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming
from volthub.ocpi.schemas import CommandType

router = APIRouter()


def cpo_commands(request: Request) -> CpoCommands:
    settings = request.app.state.container.settings
    return CpoCommands(roaming(request), settings.call_timeout_s)


def answer(result: Answer) -> JSONResponse:
    return ocpi_response(result.data, result.status, result.message)


@router.post("/commands/{command}")
async def post_command(request: Request, command: str, caller: ModuleCaller,
                       body: Any = Body(...)) -> JSONResponse:
    """mod_commands §Receiver POST: answered at once with a CommandResponse; the station's
    answer follows as a CommandResult POSTed to the body's response_url."""
    try:
        kind = CommandType(command.upper())
    except ValueError:
        # Not one of the five CommandTypes: no such resource (status_codes: an HTTP error is
        # for requests that do not address an existing resource).
        raise OcpiError(OcpiStatus.CLIENT_ERROR, f"unknown command {command!r}; one of "
                        f"{', '.join(t.value for t in CommandType)}", http_status=404) from None
    return answer(await cpo_commands(request).command(caller, kind, body))
