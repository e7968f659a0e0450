"""CALLERROR codes per OCPP version: 1.6 keeps its own spellings (OCPP-J 1.6 §4.2.3, errata §5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class ErrorCodes:
    format_violation: str
    occurrence_violation: str
    property_violation: str
    type_violation: str
    not_implemented: str  # action not known by the receiver
    not_supported: str  # action known but not supported by the receiver
    message_type_not_supported: str
    protocol_error: str = "ProtocolError"
    security_error: str = "SecurityError"
    internal_error: str = "InternalError"
    generic_error: str = "GenericError"


# 1.6: "FormationViolation" and "OccurenceConstraintViolation" are typos the errata keep on purpose;
# 1.6 has no MessageTypeNotSupported, so an unknown message type is a formation violation.
V16_ERRORS = ErrorCodes(
    format_violation="FormationViolation",
    occurrence_violation="OccurenceConstraintViolation",
    property_violation="PropertyConstraintViolation",
    type_violation="TypeConstraintViolation",
    not_implemented="NotImplemented",
    not_supported="NotSupported",
    message_type_not_supported="FormationViolation",
)

V201_ERRORS = ErrorCodes(
    format_violation="FormatViolation",
    occurrence_violation="OccurrenceConstraintViolation",
    property_violation="PropertyConstraintViolation",
    type_violation="TypeConstraintViolation",
    not_implemented="NotImplemented",
    not_supported="NotSupported",
    message_type_not_supported="MessageTypeNotSupported",
)


def schema_error_code(codes: ErrorCodes, rule: str | None, at_root: bool) -> str:
    """Map a JSON-schema rule that failed to the version's constraint-violation code."""
    if at_root:
        return codes.format_violation
    if rule == "required":
        return codes.occurrence_violation
    if rule in ("type", "maxLength", "minLength", "format"):
        return codes.type_violation
    if rule == "additionalProperties":
        return codes.format_violation
    return codes.property_violation
