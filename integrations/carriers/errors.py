"""A carrier's refusal, in words a person can read. Pure Python (no Django): the clients raise it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CarrierProblem:
    """One thing the carrier said about a request: its message as sent, the field it is about, its own code."""

    message: str
    field: str = ""
    code: str = ""
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class CarrierError(Exception):
    """Base of the carriers' own errors (the shared HTTP errors of `integrations.http` pass through as they are)."""


class CarrierRejected(CarrierError):
    """The carrier refused what we asked (a bad address, an overweight parcel, an unknown service...). Retrying the
    same request gives the same answer. `problems` are the carrier's messages; `str()` joins them for people."""

    def __init__(self, carrier: str, problems: Sequence[CarrierProblem], *, status: int | None = None) -> None:
        self.carrier = carrier
        self.problems = tuple(problems) or (CarrierProblem("the carrier refused the request without a reason"),)
        self.status = status
        super().__init__(f"{carrier} refused the request: " + "; ".join(str(p) for p in self.problems))

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]


class NotSupported(CarrierError):
    """The carrier has no such operation (e.g. pushed tracking where it only offers polling)."""
