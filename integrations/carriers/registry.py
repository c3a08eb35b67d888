"""Which carriers exist: carrier code → connector. Adding a carrier is its folder and one line in `_MODULES`.

Nothing else in the kit names a carrier; it asks here. A code that is not registered is refused with an error that
names the carriers on offer (`UnknownCarrier`), never a failure at run time."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from integrations.carriers.protocol import Carrier

# One line per carrier: its folder's connector module (each exposes `connector`).
_MODULES: tuple[str, ...] = (
    "integrations.carriers.dhl_parcel_de.connector",
    "integrations.carriers.ups.connector",
)


class UnknownCarrier(LookupError):
    """A carrier code with no registered connector."""

    def __init__(self, code: str) -> None:
        offered = ", ".join(codes()) or "none"
        super().__init__(f"{code!r} is not a carrier this hub ships with; the carriers on offer are: {offered}")
        self.code = code


@cache
def connectors() -> dict[str, Carrier]:
    found: dict[str, Carrier] = {}
    for module in _MODULES:
        connector: Carrier = import_module(module).connector
        found[connector.code] = connector
    return found


def codes() -> list[str]:
    return sorted(connectors())


def connector_for(code: str) -> Carrier:
    try:
        return connectors()[code]
    except (KeyError, TypeError):
        raise UnknownCarrier(str(code)) from None


def is_registered(code: str) -> bool:
    return code in connectors()


def choices() -> list[tuple[str, str]]:
    """(code, name) for every registered carrier, for forms and the admin."""
    return [(c.code, c.name) for c in sorted(connectors().values(), key=lambda c: c.name.lower())]
