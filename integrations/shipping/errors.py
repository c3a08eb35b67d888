"""Shipping's refusals, as domain errors the console and the API show the same way."""

from __future__ import annotations

from warehouse.errors import Conflict, DomainError, InvalidInput


class CarrierRefused(InvalidInput):
    """The carrier refused the label (422): its own message is shown to the person."""


class CarrierUnavailable(DomainError):
    """The carrier did not answer (timeouts, 5xx, rate limits after retries): nothing was bought (503)."""

    http_status = 503


class ShippingHeld(Conflict):
    """The order cannot ship as it is (no rule covers it, customs data missing): it was held with the reason named,
    in the exception queue, and nothing was bought (409)."""
