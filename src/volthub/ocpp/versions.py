"""The OCPP versions the gateway speaks, each as a bundle of handlers, translators and codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from volthub.domain.model import JsonObject
from volthub.ocpp.context import Handler
from volthub.ocpp.errors import V16_ERRORS, ErrorCodes
from volthub.services.ports import CommandOutcome, PreparedCommand


@dataclass(frozen=True, slots=True)
class VersionAdapter:
    version: str
    subprotocol: str
    errors: ErrorCodes
    handlers: dict[str, Handler]
    to_call: Callable[[PreparedCommand], tuple[str, JsonObject]]
    from_result: Callable[[PreparedCommand, JsonObject], CommandOutcome]


def load_adapters() -> dict[str, VersionAdapter]:
    """Adapters by subprotocol, highest version first (the server picks the highest offered)."""
    from volthub.ocpp.v16 import adapter as v16
    from volthub.ocpp.v16 import outbound as v16_out

    adapters = [
        VersionAdapter("1.6", "ocpp1.6", V16_ERRORS, v16.HANDLERS, v16_out.to_call,
                       v16_out.from_result),
    ]
    return {a.subprotocol: a for a in adapters}
