"""CALLERROR codes per OCPP version: 1.6 keeps its own spellings (OCPP-J 1.6 §4.2.3, errata §5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class ErrorCodes:
    format_violation: str  # the frame is not JSON, or a payload is not a JSON object
    occurrence_violation: str
    property_violation: str
    type_violation: str
    not_implemented: str  # action not known by the receiver
    not_supported: str  # action known but not supported by the receiver
    message_type_not_supported: str
    rpc_framework_error: str  # valid JSON, but not an OCPP-J RPC frame
    structure_violation: str  # a payload object with a property its PDU does not define
    protocol_error: str = "ProtocolError"
    security_error: str = "SecurityError"
    internal_error: str = "InternalError"
    generic_error: str = "GenericError"


# 1.6: "FormationViolation" and "OccurenceConstraintViolation" are typos the errata keep on purpose;
# 1.6 has no MessageTypeNotSupported and no RpcFrameworkError, so an unknown message type and a
# frame that is not OCPP-J are formation violations; FormationViolation also covers "not conform
# the PDU structure for Action" (OCPP-J 1.6 §4.2.3), i.e. an additional property.
V16_ERRORS = ErrorCodes(
    format_violation="FormationViolation",
    occurrence_violation="OccurenceConstraintViolation",
    property_violation="PropertyConstraintViolation",
    type_violation="TypeConstraintViolation",
    not_implemented="NotImplemented",
    not_supported="NotSupported",
    message_type_not_supported="FormationViolation",
    rpc_framework_error="FormationViolation",
    structure_violation="FormationViolation",
)

# 2.0.1 / 2.1 Part 4 §4.3 (Table 8 / Table 9), checked in layers:
# - FormatViolation "Payload for Action is syntactically incorrect": text that is not JSON at all
#   (§4.1.2: the whole message MUST be valid JSON; §4.2.3 lists "invalid JSON"), and a payload
#   that is not a JSON object (§4.1.5);
# - RpcFrameworkError "Content of the call is not a valid RPC Request, for example: MessageId
#   could not be read": valid JSON that is not [type, id, ...] with the element count of its type
#   (§4.2.1: "A CALL always consists of 4 elements"), a MessageId that is not a string of 1..36
#   characters (Table 4), an Action that is not a string;
# - MessageTypeNotSupported: a MessageTypeId not in Table 3 (2.0.1 §4.4 SHALL);
# - ProtocolError "Payload for Action is not conform the PDU structure": a property the schema does
#   not define (additionalProperties false). 1.6's FormationViolation was "syntactically incorrect
#   or not conform the PDU structure"; 2.0.1 split it into FormatViolation and ProtocolError, and an
#   extra property leaves the payload syntactically correct.
V201_ERRORS = ErrorCodes(
    format_violation="FormatViolation",
    occurrence_violation="OccurrenceConstraintViolation",
    property_violation="PropertyConstraintViolation",
    type_violation="TypeConstraintViolation",
    not_implemented="NotImplemented",
    not_supported="NotSupported",
    message_type_not_supported="MessageTypeNotSupported",
    rpc_framework_error="RpcFrameworkError",
    structure_violation="ProtocolError",
)


def schema_error_code(codes: ErrorCodes, rule: str | None, at_root: bool) -> str:
    """Map a JSON-schema rule that failed to the version's constraint-violation code."""
    if at_root:
        return codes.format_violation
    # Occurrence constraints are the cardinalities of the message tables (1..1, 0..*, 1..4):
    # a missing required field, and a list shorter or longer than its cardinality.
    if rule in ("required", "minItems", "maxItems"):
        return codes.occurrence_violation
    if rule in ("type", "maxLength", "minLength", "format"):
        return codes.type_violation
    if rule == "additionalProperties":
        return codes.structure_violation
    return codes.property_violation
