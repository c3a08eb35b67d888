"""Which platforms exist: platform code → connector. Adding a platform is its folder and one line in `_MODULES`.

Nothing else in the kit names a platform; it asks here. A code that is not registered is refused with an error that
names the platforms on offer (`UnknownPlatform`), never a failure at run time."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from integrations.platforms.protocol import Connector

# One line per platform: its folder's connector module (each exposes `connector`).
_MODULES: tuple[str, ...] = (
    "integrations.platforms.bigcommerce.connector",
    "integrations.platforms.shopify.connector",
    "integrations.platforms.woocommerce.connector",
)


class UnknownPlatform(LookupError):
    """A platform code with no registered connector."""

    def __init__(self, code: str) -> None:
        offered = ", ".join(codes()) or "none"
        super().__init__(f"{code!r} is not a platform this hub connects to; the platforms on offer are: {offered}")
        self.code = code


@cache
def connectors() -> dict[str, Connector]:
    found: dict[str, Connector] = {}
    for module in _MODULES:
        connector: Connector = import_module(module).connector
        found[connector.code] = connector
    return found


def codes() -> list[str]:
    return sorted(connectors())


def connector_for(code: str) -> Connector:
    try:
        return connectors()[code]
    except (KeyError, TypeError):
        raise UnknownPlatform(str(code)) from None


def is_registered(code: str) -> bool:
    return code in connectors()


def choices() -> list[tuple[str, str]]:
    """(code, name) for every registered platform, for forms and the admin."""
    return [(c.code, c.name) for c in sorted(connectors().values(), key=lambda c: c.name.lower())]


# Seed 000 §07: "outbound write latency P95 above platform-specific budget". A connector may declare
# `write_latency_budget_seconds` (event to platform-confirmed write); one that does not gets this default.
DEFAULT_WRITE_LATENCY_BUDGET_SECONDS = 60.0


def write_latency_budget_seconds(code: str) -> float:
    """The platform's write-latency budget: its connector's optional attribute, else the default."""
    if not is_registered(code):
        return DEFAULT_WRITE_LATENCY_BUDGET_SECONDS
    return float(getattr(connector_for(code), "write_latency_budget_seconds", DEFAULT_WRITE_LATENCY_BUDGET_SECONDS))
