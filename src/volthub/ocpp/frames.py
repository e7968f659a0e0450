"""OCPP-J frame parsing: a text frame becomes a Call, a CallResult, a CallError or a BadFrame."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

# OCPP-J 1.6 §4.1.4 / 2.0.1 §4.1.3: the unique id is a string of at most 36 characters.
MAX_MESSAGE_ID_LENGTH = 36
_LEADING_ID = re.compile(r'^\s*\[\s*\d+\s*,\s*"([^"\\]{1,36})"')


@dataclass(slots=True)
class Call:
    message_id: str
    action: str
    payload: Any


@dataclass(slots=True)
class CallResult:
    message_id: str
    payload: Any


@dataclass(slots=True)
class CallError:
    message_id: str
    error_code: str
    description: str
    details: Any


@dataclass(slots=True)
class Send:
    """OCPP 2.1 SEND (type 6): a CALL that is never answered (2.1 Part 4 §4.2.4)."""

    message_id: str
    action: str
    payload: Any


@dataclass(slots=True)
class CallResultError:
    """OCPP 2.1 CALLRESULTERROR (type 5): the peer could not process our CALLRESULT."""

    message_id: str
    error_code: str
    description: str
    details: Any


@dataclass(slots=True)
class BadFrame:
    """A frame we must answer with a CALLERROR; `kind` picks the version's error code."""

    message_id: str
    kind: str  # "format" | "message_type" | "protocol"
    description: str
    document: Any = None  # the parsed JSON, when it parsed
    # Which layer is broken, for versions that tell them apart (2.x Part 4 §4.3): "json" (the
    # text is not JSON), "rpc" (JSON, but not an OCPP-J frame), "payload" (a CALL whose payload
    # is not a JSON object).
    fault: str = "rpc"


Frame = Call | CallResult | CallError | Send | CallResultError | BadFrame


def _best_effort_id(text: str) -> str:
    # OCPP 2.0.1 Part 4 §4.2.3: when the id cannot be read, answer with "-1".
    match = _LEADING_ID.match(text)
    return match.group(1) if match else "-1"


def parse_frame(text: str | bytes, extended_types: bool = False) -> Frame:
    """Parse one frame; `extended_types` admits the 2.1 types 5 (CALLRESULTERROR) and 6 (SEND)."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return BadFrame(_best_effort_id(raw), "format", "frame is not valid JSON", fault="json")
    if not isinstance(doc, list) or len(doc) < 3:
        return BadFrame("-1", "format", "frame is not an OCPP-J array", doc)
    type_id, message_id = doc[0], doc[1]
    if not isinstance(message_id, str) or not message_id:
        return BadFrame("-1", "format", "message id must be a non-empty string", doc)
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        return BadFrame(message_id, "format", "message id longer than 36 characters", doc)
    if type_id == 2:
        if len(doc) != 4 or not isinstance(doc[2], str):
            return BadFrame(message_id, "format", "CALL must be [2, id, action, payload]", doc)
        if not isinstance(doc[3], dict):
            return BadFrame(message_id, "format", "CALL payload must be a JSON object", doc,
                            fault="payload")
        return Call(message_id, doc[2], doc[3])
    if type_id == 3:
        if len(doc) != 3:
            return BadFrame(message_id, "format", "CALLRESULT must be [3, id, payload]", doc)
        return CallResult(message_id, doc[2])
    if type_id == 4:
        if len(doc) != 5 or not isinstance(doc[2], str):
            return BadFrame(
                message_id, "format", "CALLERROR must be [4, id, code, description, details]", doc
            )
        return CallError(message_id, doc[2], str(doc[3]), doc[4])
    if type_id == 6 and extended_types:
        if len(doc) != 4 or not isinstance(doc[2], str) or not isinstance(doc[3], dict):
            return BadFrame(message_id, "format", "SEND must be [6, id, action, payload]", doc)
        return Send(message_id, doc[2], doc[3])
    if type_id == 5 and extended_types:
        if len(doc) != 5 or not isinstance(doc[2], str):
            return BadFrame(message_id, "format",
                            "CALLRESULTERROR must be [5, id, code, description, details]", doc)
        return CallResultError(message_id, doc[2], str(doc[3]), doc[4])
    return BadFrame(message_id, "message_type", f"message type {type_id!r} is not supported", doc)


def encode_call(message_id: str, action: str, payload: Any) -> str:
    return orjson.dumps([2, message_id, action, payload]).decode()


def encode_result(message_id: str, payload: Any) -> str:
    return orjson.dumps([3, message_id, payload]).decode()


def encode_error(message_id: str, code: str, description: str, details: Any = None) -> str:
    return orjson.dumps([4, message_id, code, description, details or {}]).decode()
