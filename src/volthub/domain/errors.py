"""Domain errors that the API and the OCPP gateway turn into their own answers."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a use case raises on purpose."""


class NotFound(DomainError):
    """An unknown resource (API 404)."""


class Conflict(DomainError):
    """A state conflict: duplicate id, station not connected (API 409)."""


class Unsupported(DomainError):
    """A command that the station's OCPP version does not have (API 422)."""


class InvalidInput(DomainError):
    """Input that passed schema validation but is still wrong (API 422)."""


class StationTimeout(DomainError):
    """The station did not answer in time (API 504)."""


class StationError(DomainError):
    """The station answered with a CALLERROR or an invalid payload (API 502)."""

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class OwnershipViolation(DomainError):
    """A station touched a transaction that belongs to another station."""
