"""The canonical order: what every connector's normaliser produces and `orders.services.order_ingest` consumes.

Values are kept as received (a quantity may be "1e309" or -1): validation happens in `orders`, where a bad value puts
the order on hold with the reason named, never raises out of ingestion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class CanonicalLine:
    sku_code: str
    quantity: Any  # raw as received; orders validates it is a positive integer
    external_line_id: str = ""
    title: str = ""


@dataclass(frozen=True)
class CanonicalAddress:
    name: str = ""
    street1: str = ""
    street2: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2


# The address's fields, in order: defined once, here (the mappings, the order's delivery_* columns and edits use it).
ADDRESS_FIELDS = tuple(f.name for f in fields(CanonicalAddress))


@dataclass(frozen=True)
class CanonicalOrder:
    platform_order_id: str
    updated_at: dt.datetime | None  # the platform's version of this record; older never overwrites newer
    status: str = "open"  # open | paid | cancelled (after the connection's status mapping)
    placed_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    priority_class: str = "standard"
    ship_by: dt.datetime | None = None
    address: CanonicalAddress = field(default_factory=CanonicalAddress)
    phone: str = ""
    email: str = ""
    special_handling: str = ""
    lines: tuple[CanonicalLine, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # platform fields kept for support, never secrets
