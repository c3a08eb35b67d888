"""Ship-by from the channel's cutoff at a facility, in the facility's own time zone (seed 000 §03: "We treat cutoff
as a contract per channel, not a goal"). Orders call `ship_by_compute` at ingestion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from orders.allocation.models import Cutoff
from warehouse.memo import memoized
from warehouse.models import Brand, Facility


@dataclass(frozen=True)
class ShipBy:
    """When the order must be ship-confirmed. `hard`: a marketplace handling time (account health), not a target."""

    at: dt.datetime
    hard: bool
    cutoff_local: dt.datetime  # the cutoff this order is planned against, in the facility's zone
    source: str  # "cutoff" or "platform" (the platform's promised ship-by was earlier)


@memoized
def cutoff_for(*, brand: Brand, facility: Facility, platform: str = "") -> Cutoff:
    """The brand's cutoff for this channel at this facility, else its default for the facility, else 15:00 Mon–Fri."""
    found = {c.platform: c for c in Cutoff.objects.filter(brand=brand, facility=facility, platform__in={platform, ""})}
    return found.get(platform) or found.get("") or Cutoff(brand=brand, facility=facility, platform=platform)


def _next_ship_day(day: dt.date, weekdays: list[int]) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() not in weekdays:
        day += dt.timedelta(days=1)
    return day


def ship_by_at(*, cutoff: Cutoff, facility: Facility, paid_at: dt.datetime) -> dt.datetime:
    """Paid before the cutoff on a ship day: that day's cutoff, plus `handling_days` ship days; else the next."""
    zone = ZoneInfo(facility.time_zone or "UTC")
    local = paid_at.astimezone(zone)
    weekdays = cutoff.weekdays
    day = local.date()
    if day.weekday() not in weekdays or local.time() >= cutoff.cutoff_time:
        day = _next_ship_day(day, weekdays)
    for _ in range(cutoff.handling_days):
        day = _next_ship_day(day, weekdays)
    return dt.datetime.combine(day, cutoff.cutoff_time, tzinfo=zone)


def ship_by_compute(
    *,
    brand: Brand,
    facility: Facility,
    paid_at: dt.datetime,
    platform: str = "",
    marketplace: bool = False,
    promised_ship_by: dt.datetime | None = None,
) -> ShipBy:
    """Ship-by for an order paid at `paid_at` and routed to `facility`, planned on the cutoff of its channel's
    platform code. A marketplace's handling time is a hard deadline (`marketplace`: the channel's
    `is_marketplace`), and its own promised ship-by wins when it is earlier than the cutoff plan."""
    cutoff = cutoff_for(brand=brand, facility=facility, platform=platform)
    local = ship_by_at(cutoff=cutoff, facility=facility, paid_at=paid_at)
    planned = local.astimezone(dt.UTC)
    hard = bool(cutoff.hard_deadline) or marketplace
    if promised_ship_by is not None and promised_ship_by < planned:
        return ShipBy(at=promised_ship_by.astimezone(dt.UTC), hard=True, cutoff_local=local, source="platform")
    return ShipBy(at=planned, hard=hard or promised_ship_by is not None, cutoff_local=local, source="cutoff")


def can_meet(
    *,
    brand: Brand,
    facility: Facility,
    platform: str,
    paid_at: dt.datetime,
    now: dt.datetime,
    deadline: dt.datetime | None = None,
) -> bool:
    """Can `facility` still ship this order by its deadline if it took it now? Without a platform deadline the
    deadline is the ship-by the customer was promised at payment (the paid day's cutoff plan at that facility)."""
    cutoff = cutoff_for(brand=brand, facility=facility, platform=platform)
    if deadline is None:
        deadline = ship_by_at(cutoff=cutoff, facility=facility, paid_at=paid_at)
    return ship_by_at(cutoff=cutoff, facility=facility, paid_at=now) <= deadline
