"""One station's OCPP-J session: frame dispatch, one outstanding CALL per direction, message log."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from volthub.domain.enums import Direction, MessageType
from volthub.domain.errors import OwnershipViolation, StationError, StationTimeout
from volthub.domain.model import JsonObject, MessageRecord
from volthub.ocpp import schemas
from volthub.ocpp.context import StationContext
from volthub.ocpp.errors import schema_error_code
from volthub.ocpp.frames import (
    BadFrame,
    Call,
    CallError,
    CallResult,
    CallResultError,
    Send,
    encode_call,
    encode_error,
    encode_result,
    parse_frame,
)
from volthub.ocpp.versions import VersionAdapter
from volthub.services.security_profile import mask_secrets

log = logging.getLogger("volthub.ocpp")

SendText = Callable[[str], Awaitable[None]]
ReceiveText = Callable[[], Awaitable[str | None]]
# Throttle for last_seen updates: at most one write per station per this many seconds.
SEEN_WRITE_INTERVAL_S = 30.0
# The message log keeps message ids and actions in 64 characters: a station's longer ones are
# logged shortened (PostgreSQL would refuse the whole batch of log rows otherwise).
LOG_FIELD_LENGTH = 64
ERROR_DESCRIPTION_LENGTH = 255

_message_ids = itertools.count(1)


class StationConnection:
    """Serves one WebSocket of one station until it closes."""

    def __init__(
        self,
        ctx: StationContext,
        adapter: VersionAdapter,
        send_text: SendText,
        close: Callable[[int, str], Awaitable[None]],
        call_timeout_s: float,
    ) -> None:
        self.ctx = ctx
        self.adapter = adapter
        self._send_text = send_text
        self._close = close
        self.call_timeout_s = call_timeout_s
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, str, asyncio.Future[Any]] | None = None
        self._last_seen_write = 0.0
        self.closed = asyncio.Event()
        self._storage = ctx.services.storage
        self._background: set[asyncio.Task[None]] = set()

    @property
    def station_id(self) -> str:
        return self.ctx.station_id

    # frames in ------------------------------------------------------------------------
    async def on_text(self, text: str) -> None:
        """Handle one received frame; station CALLs are answered before the next is read."""
        now = self.ctx.now()
        self._seen(now)
        frame = parse_frame(text, self.adapter.extended_frames)
        if isinstance(frame, Call):
            self._log(Direction.IN, MessageType.CALL, frame.message_id, frame.action, frame.payload)
            await self._on_call(frame)
        elif isinstance(frame, CallResult):
            action = self._pending[1] if self._pending and self._pending[0] == frame.message_id \
                else None
            self._log(Direction.IN, MessageType.CALLRESULT, frame.message_id, action, frame.payload)
            self._resolve(frame.message_id, frame)
        elif isinstance(frame, CallError):
            action = self._pending[1] if self._pending and self._pending[0] == frame.message_id \
                else None
            self._log(Direction.IN, MessageType.CALLERROR, frame.message_id, action,
                      {"errorCode": frame.error_code, "errorDescription": frame.description,
                       "errorDetails": frame.details})
            self._resolve(frame.message_id, frame)
        elif isinstance(frame, Send):
            self._log(Direction.IN, MessageType.SEND, frame.message_id, frame.action, frame.payload)
            await self._on_send(frame)
        elif isinstance(frame, CallResultError):
            # 2.1: the station could not process one of our CALLRESULTs; nothing to answer.
            self._log(Direction.IN, MessageType.CALLRESULTERROR, frame.message_id, None,
                      {"errorCode": frame.error_code, "errorDescription": frame.description,
                       "errorDetails": frame.details})
            log.warning("station refused our answer", extra={"station_id": self.station_id,
                                                              "message_id": frame.message_id,
                                                              "error_code": frame.error_code})
        else:
            self._log(Direction.IN, MessageType.CALL, frame.message_id, None,
                      frame.document if frame.document is not None else text)
            await self._on_bad_frame(frame)

    async def _on_bad_frame(self, frame: BadFrame) -> None:
        codes = self.adapter.errors
        doc = frame.document
        if self.adapter.extended_frames and isinstance(doc, list) and doc and doc[0] == 6:
            # 2.1 Part 4 §4.2.4: a SEND is never answered, not even a malformed one.
            log.warning("malformed SEND ignored", extra={"station_id": self.station_id,
                                                         "message_id": frame.message_id})
            return
        # See errors.V201_ERRORS for the layers (2.x Part 4 §4.3); 1.6 has one code for them all.
        if frame.kind == "message_type":
            code = codes.message_type_not_supported
        elif frame.fault in ("json", "payload"):
            code = codes.format_violation
        else:
            code = codes.rpc_framework_error
        await self._send_error(frame.message_id, code, frame.description, None)

    async def _on_call(self, call: Call) -> None:
        codes = self.adapter.errors
        handler = self.adapter.handlers.get(call.action)
        if handler is None:
            known = call.action in schemas.actions(self.ctx.version)
            # OCPP-J 1.6 §4.2.3: NotImplemented = action not known; NotSupported = known but
            # not supported (e.g. a CSMS-to-station action sent by a station).
            code = codes.not_supported if known else codes.not_implemented
            await self._send_error(call.message_id, code, f"action {call.action!r}", call.action)
            return
        validate = schemas.validator(self.ctx.version, call.action, response=False)
        if validate is not None:
            try:
                validate(call.payload)
            except schemas.JsonSchemaError as exc:
                rule, at_root = schemas.schema_rule(exc)
                await self._send_error(call.message_id, schema_error_code(codes, rule, at_root),
                                       str(exc.message), call.action)
                return
        if not self.ctx.accepted and call.action != "BootNotification":
            if call.action in self.ctx.triggered:
                self.ctx.triggered.discard(call.action)
            elif call.action in self.ctx.solicited:
                pass
            else:
                # OCPP-J 1.6 errata §5.6 / 2.0.1 B02: before acceptance only BootNotification.
                await self._send_error(call.message_id, codes.security_error,
                                       "station is not accepted: send BootNotification first",
                                       call.action)
                return
        self.ctx.pending_after_reply.clear()
        try:
            response = await handler(self.ctx, call.payload)
        except OwnershipViolation as exc:
            await self._send_error(call.message_id, codes.security_error,
                                   f"transaction {exc} belongs to another station", call.action)
            return
        except Exception:
            log.exception("handler failed", extra={"station_id": self.station_id,
                                                   "action": call.action})
            await self._send_error(call.message_id, codes.internal_error,
                                   "the CSMS could not process the request", call.action)
            return
        await self._send(encode_result(call.message_id, response), MessageType.CALLRESULT,
                         call.message_id, call.action, response)
        self._run_after_reply()

    async def _on_send(self, send: Send) -> None:
        """2.1 SEND: handled like a CALL but never answered, not even with an error (§4.2.4)."""
        handler = self.adapter.handlers.get(send.action)
        if handler is None or not self.ctx.accepted:
            log.warning("SEND ignored", extra={"station_id": self.station_id,
                                               "action": send.action})
            return
        try:
            await handler(self.ctx, send.payload)
        except Exception:
            log.exception("SEND handler failed", extra={"station_id": self.station_id,
                                                        "action": send.action})
        self._run_after_reply()

    def _run_after_reply(self) -> None:
        work, self.ctx.pending_after_reply = self.ctx.pending_after_reply, []
        for item in work:
            task = asyncio.create_task(self._after_reply(item))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _after_reply(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception:
            log.warning("follow-up of a station call failed", exc_info=True,
                        extra={"station_id": self.station_id})

    # calls out ------------------------------------------------------------------------
    async def call(self, action: str, payload: JsonObject) -> JsonObject:
        """Send a CALL and wait for its answer; calls queue so that one is outstanding at most."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.call_timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                async with self._call_lock:
                    if self.closed.is_set():
                        raise StationError("station disconnected")
                    message_id = f"{next(_message_ids):x}"
                    future: asyncio.Future[Any] = loop.create_future()
                    self._pending = (message_id, action, future)
                    try:
                        await self._send(encode_call(message_id, action, payload),
                                         MessageType.CALL, message_id, action, payload)
                        answer = await future
                    finally:
                        self._pending = None
        except TimeoutError as exc:
            raise StationTimeout(f"station did not answer {action} in "
                                 f"{self.call_timeout_s:g} s") from exc
        if isinstance(answer, CallError):
            raise StationError(f"station answered {action} with {answer.error_code}: "
                               f"{answer.description}", answer.error_code)
        validate = schemas.validator(self.ctx.version, action, response=True)
        if validate is not None:
            try:
                validate(answer.payload)
            except schemas.JsonSchemaError as exc:
                # No CALLRESULTERROR goes back, on 2.1 either: 2.1 Part 4 §4.1 says a receiver
                # "can" answer a CALLRESULT it cannot process with one (no SHALL/SHOULD), and
                # §4.2.3 lets a system drop a message that does not conform to the schema.
                raise StationError(f"station answered {action} with an invalid payload: "
                                   f"{exc.message}") from exc
        result: JsonObject = answer.payload
        return result

    def _resolve(self, message_id: str, frame: CallResult | CallError) -> None:
        pending = self._pending
        if pending is None or pending[0] != message_id:
            log.warning("answer to no outstanding call", extra={"station_id": self.station_id,
                                                                 "message_id": message_id})
            return
        if not pending[2].done():
            pending[2].set_result(frame)

    def connection_lost(self) -> None:
        self.closed.set()
        if self._pending and not self._pending[2].done():
            self._pending[2].set_exception(StationError("station disconnected"))

    async def close(self, code: int, reason: str) -> None:
        self.connection_lost()
        await self._close(code, reason)

    # helpers --------------------------------------------------------------------------
    async def _send_error(self, message_id: str, code: str, description: str,
                          action: str | None) -> None:
        # 2.0.1 / 2.1 Part 4 Table 7: ErrorDescription is string[255] (a schema message listing
        # a long enumeration is longer).
        description = description[:ERROR_DESCRIPTION_LENGTH]
        text = encode_error(message_id, code, description)
        await self._send(text, MessageType.CALLERROR, message_id, action,
                         {"errorCode": code, "errorDescription": description, "errorDetails": {}})

    async def _send(self, text: str, message_type: MessageType, message_id: str,
                    action: str | None, payload: Any) -> None:
        self._log(Direction.OUT, message_type, message_id, action, payload)
        await self._send_text(text)

    def _log(self, direction: Direction, message_type: MessageType, message_id: str,
             action: str | None, payload: Any) -> None:
        self._storage.log_message(MessageRecord(
            station_id=self.station_id, timestamp=self.ctx.now(), direction=direction,
            message_type=message_type, message_id=message_id[:LOG_FIELD_LENGTH],
            action=action[:LOG_FIELD_LENGTH] if action else action,
            payload=mask_secrets(action, payload),  # no Basic-auth password in the log (A01.FR.09)
        ))

    def _seen(self, now: Any) -> None:
        mono = asyncio.get_running_loop().time()
        if mono - self._last_seen_write >= SEEN_WRITE_INTERVAL_S:
            self._last_seen_write = mono
            self.ctx.services.stations.seen(self.station_id, now)
