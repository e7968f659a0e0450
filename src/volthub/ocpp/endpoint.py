"""The OCPP-J WebSocket endpoint: subprotocol choice, Basic auth, admission, then the session."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from typing import TYPE_CHECKING

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from volthub.ocpp.connection import StationConnection
from volthub.ocpp.context import StationContext
from volthub.ocpp.versions import VersionAdapter
from volthub.security.tls import client_certificate

if TYPE_CHECKING:
    from volthub.wiring import Container

log = logging.getLogger("volthub.ocpp")

MAX_STATION_ID_LENGTH = 48  # OCPP 2.0.1 Part 4 §3.1.1: identity at most 48 characters


def _basic_auth(header: str | None) -> tuple[str, bytes] | None:
    """(user, password octets): a 1.6 AuthorizationKey may stand for binary octets (whitepaper
    A00.FR.205), so only the user part must be UTF-8."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
        raw_user, _, password = decoded.partition(b":")
        return raw_user.decode("utf-8"), password
    except (binascii.Error, UnicodeDecodeError):
        return ("", b"")


def choose_adapter(
    adapters: dict[str, VersionAdapter], offered: list[str]
) -> VersionAdapter | None:
    """The highest version the station offers (CONTRACT.md)."""
    for subprotocol, adapter in adapters.items():
        if subprotocol in offered:
            return adapter
    return None


async def _refuse(websocket: WebSocket, status: int, reason: str) -> None:
    # Refused at the handshake with an HTTP status where the server supports it (uvicorn does).
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        # RFC 7235 §3.1: a 401 carries the challenge (stations that wait for it then send Basic).
        headers = {"WWW-Authenticate": 'Basic realm="volthub"'} if status == 401 else None
        await websocket.send_denial_response(
            PlainTextResponse(reason, status_code=status, headers=headers))
    else:
        await websocket.close(code=1008, reason=reason)


async def ocpp_endpoint(websocket: WebSocket) -> None:
    container: Container = websocket.app.state.container
    station_id = websocket.path_params["station_id"]
    offered = [p.strip() for p in websocket.scope.get("subprotocols", [])]
    adapter = choose_adapter(container.adapters, offered)
    if adapter is None:
        await _refuse(websocket, 400, "no supported OCPP subprotocol offered")
        return
    if not station_id or len(station_id) > MAX_STATION_ID_LENGTH:
        await _refuse(websocket, 404, "invalid station identity")
        return
    secure = websocket.url.scheme == "wss"
    certificate = client_certificate(websocket.scope)
    admission = await container.services.stations.admit(
        station_id, _basic_auth(websocket.headers.get("authorization")), secure,
        ",".join(certificate.common_names) if certificate else None,
    )
    if admission.station is None:
        log.info("handshake refused", extra={"station_id": station_id, "reason": admission.reason})
        await _refuse(websocket, admission.refusal_status or 403, admission.reason)
        return
    await websocket.accept(subprotocol=adapter.subprotocol)
    ctx = StationContext(
        station_id=station_id,
        version=adapter.version,
        services=container.services,
        accepted=admission.station.registration_status == "Accepted",
        security_level=admission.security_level,
    )

    async def close(code: int, reason: str) -> None:
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=code, reason=reason)

    connection = StationConnection(ctx, adapter, websocket.send_text, close,
                                   container.settings.call_timeout_s)
    await container.gateway.attach(connection)
    container.services.stations.connected(station_id, adapter.version)
    log.info("station connected", extra={"station_id": station_id, "ocpp": adapter.version})
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", "replace")
            await connection.on_text(text)
    except WebSocketDisconnect:
        pass
    except RuntimeError:
        # Raised by Starlette when the socket was closed by us (replaced connection).
        pass
    finally:
        container.gateway.detach(connection)
        log.info("station disconnected", extra={"station_id": station_id})
