"""Domain errors. Services raise these; the API maps them to HTTP in one place (409, 403, 422, 400 too long)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One named reason: a stable code for machines and a sentence for people."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class DomainError(Exception):
    """Base of every rule the domain refuses. `reasons` names each failed rule."""

    http_status = 422

    def __init__(self, message: str, *, reasons: list[Reason] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = reasons or []


class InvalidInput(DomainError):
    """The request is well-formed but breaks a rule of the domain (422)."""


class TooLong(InvalidInput):
    """A value sent is longer than its field holds (400 naming the field): refused, never cut short.
    See `warehouse.limits`."""

    http_status = 400


class TransitionNotAllowed(DomainError):
    """The object is not in a state from which this transition may run, or a guard failed (409)."""

    http_status = 409


class NotPermitted(DomainError):
    """The actor lacks the permission this action needs (403)."""

    http_status = 403


class InsufficientStock(DomainError):
    """Allocation would take more than is available; nothing was allocated (409)."""

    http_status = 409


class Conflict(DomainError):
    """The action conflicts with the current state of the object, e.g. an edit after release to pick (409)."""

    http_status = 409
