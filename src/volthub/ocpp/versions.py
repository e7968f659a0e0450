"""The OCPP versions the gateway speaks, each as a bundle of handlers, translators and codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from volthub.domain.model import JsonObject
from volthub.ocpp.context import Handler
from volthub.ocpp.errors import V16_ERRORS, V201_ERRORS, ErrorCodes
from volthub.services.ports import CommandOutcome, PreparedCommand


@dataclass(frozen=True, slots=True)
class VersionAdapter:
    version: str
    subprotocol: str
    errors: ErrorCodes
    handlers: dict[str, Handler]
    to_call: Callable[[PreparedCommand], tuple[str, JsonObject]]
    from_result: Callable[[PreparedCommand, JsonObject], CommandOutcome]
    # The action a station sends when a TriggerMessage asks for `requestedMessage`.
    triggered_action: Callable[[str, str], str]
    # 2.1 adds the frame types SEND (6) and CALLRESULTERROR (5) (2.1 Part 4 §4.2).
    extended_frames: bool = False


def load_adapters() -> dict[str, VersionAdapter]:
    """Adapters by subprotocol, highest version first (the server picks the highest offered)."""
    from volthub.ocpp.v16 import adapter as v16
    from volthub.ocpp.v16 import outbound as v16_out
    from volthub.ocpp.v201 import adapter as v201
    from volthub.ocpp.v201 import outbound as v201_out

    adapters = [
        VersionAdapter("2.1", "ocpp2.1", V201_ERRORS, v201.HANDLERS_21,
                       v201_out.make_to_call("2.1"), v201_out.from_result,
                       lambda action, requested: v201_out.triggered_action(requested),
                       extended_frames=True),
        VersionAdapter("2.0.1", "ocpp2.0.1", V201_ERRORS, v201.HANDLERS_201,
                       v201_out.make_to_call("2.0.1"), v201_out.from_result,
                       lambda action, requested: v201_out.triggered_action(requested)),
        VersionAdapter("1.6", "ocpp1.6", V16_ERRORS, v16.HANDLERS, v16_out.to_call,
                       v16_out.from_result, v16_out.triggered_action),
    ]
    return {a.subprotocol: a for a in adapters}
