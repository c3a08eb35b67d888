"""Facility routing (seed 000 §04 "The other axis of allocation is geography"): the facility nearest the destination
that holds *all* of the order's stock and can still meet the channel's cutoff; a split across facilities only when no
single one can, with an estimated split fee the brand sees."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from inventory.kits import expand_lines
from inventory.models import Sku, StockLevel
from orders.allocation.cutoffs import can_meet
from orders.allocation.models import AllocationPolicy, ContractReservation
from orders.allocation.selectors import allocation_policy_for
from warehouse.errors import Reason
from warehouse.memo import memoized
from warehouse.models import Brand, Facility
from warehouse.selectors import facility_list

Lines = Sequence[tuple[Sku, int]]


@dataclass(frozen=True)
class Destination:
    country: str = ""
    postal_code: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class RouteLeg:
    facility: Facility
    lines: list[tuple[Sku, int]]


@dataclass
class RoutePlan:
    """Where the order ships from. One leg normally; several when it must split. `short` names what no facility
    (nor any split) can cover: then the order is held short, never half-accepted."""

    legs: list[RouteLeg] = field(default_factory=list)
    split_fee: Decimal = Decimal("0.00")
    short: list[Reason] = field(default_factory=list)
    cutoff_met: bool = True

    @property
    def facility(self) -> Facility | None:
        return self.legs[0].facility if len(self.legs) == 1 else None

    @property
    def is_split(self) -> bool:
        return len(self.legs) > 1


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def distance_key(facility: Facility, destination: Destination) -> tuple[int, float, str]:
    """Sort key, nearest first. Coordinates on both sides: great-circle km. Otherwise same country first, then how
    far apart the postal codes are (US ZIP3 / numeric prefixes are laid out geographically; else shared prefix)."""
    if (
        destination.latitude is not None
        and destination.longitude is not None
        and facility.latitude is not None
        and facility.longitude is not None
    ):
        km = _haversine_km(
            float(facility.latitude), float(facility.longitude), destination.latitude, destination.longitude
        )
        return (0, km, facility.code)
    other_country = int(bool(destination.country) and facility.country.upper() != destination.country.upper())
    ours, theirs = (facility.postal_code or "").strip().upper(), (destination.postal_code or "").strip().upper()
    if ours[:3].isdigit() and theirs[:3].isdigit():
        gap = float(abs(int(ours[:3]) - int(theirs[:3])))
    else:
        shared = 0
        for a, b in zip(ours, theirs, strict=False):
            if a != b:
                break
            shared += 1
        gap = float(1000 - shared)
    return (other_country, gap, facility.code)


@dataclass(frozen=True)
class StockFacts:
    """Stock and open contract reservations of some SKUs at every facility."""

    levels: list[tuple[int, int, int, int]]  # (sku_id, facility_id, available, reserved)
    contracts: list[tuple[int, int, str, int]]  # (facility_id, sku_id, customer, units still owed)


@memoized  # routing and the contract fill of one ingestion read the same rows
def stock_facts(*, sku_ids: tuple[int, ...]) -> StockFacts:
    levels = StockLevel.objects.filter(sku_id__in=sku_ids).with_available()
    fenced = ContractReservation.objects.filter(sku_id__in=sku_ids).owed()
    return StockFacts(
        levels=list(levels.values_list("sku_id", "facility_id", "available", "reserved")),  # type: ignore[misc]
        contracts=[(r["facility_id"], r["sku_id"], r["customer"], int(r["units"])) for r in fenced],
    )


def free_stock(
    *, sku_ids: Sequence[int], facilities: Sequence[Facility] | None = None, customer: str = ""
) -> dict[int, dict[int, int]]:
    """{facility_id: {sku_id: units}} free to promise. Contract units live in the `reserved` bucket (already outside
    `available`); what contracts still lack there (not yet filled for want of stock) is kept back too, so ordinary
    orders never take units a contract needs. A wholesale order of `customer` may also use its own reservation."""
    facts = stock_facts(sku_ids=tuple(sorted(set(sku_ids))))
    allowed = None if facilities is None else {f.pk for f in facilities}
    wanted: dict[tuple[int, int], int] = {}
    own: dict[tuple[int, int], int] = {}
    for facility_id, sku_id, owner, units in facts.contracts:
        key = (facility_id, sku_id)
        wanted[key] = wanted.get(key, 0) + units
        if customer and owner == customer:
            own[key] = own.get(key, 0) + units
    free: dict[int, dict[int, int]] = {}
    for sku_id, facility_id, available, reserved in facts.levels:
        if allowed is not None and facility_id not in allowed:
            continue
        key = (facility_id, sku_id)
        unfilled = max(0, wanted.get(key, 0) - int(reserved))
        units = max(0, int(available) - unfilled)
        if own.get(key):
            units += min(own[key], int(reserved) + min(int(available), unfilled))
        free.setdefault(facility_id, {})[sku_id] = units
    return free


def route_order(
    *,
    brand: Brand,
    lines: Lines,
    destination: Destination,
    platform: str = "",
    paid_at: dt.datetime | None = None,
    deadline: dt.datetime | None = None,
    customer: str = "",
    facilities: Sequence[Facility] | None = None,
    policy: AllocationPolicy | None = None,
    now: dt.datetime | None = None,
) -> RoutePlan:
    """Plan where `lines` ship from. Reads stock; changes nothing (the allocation itself is all-or-nothing)."""
    now = now or timezone.now()
    paid_at = paid_at or now
    policy = policy or allocation_policy_for(brand=brand)
    need, recipes = expand_lines(lines)
    candidates = list(facilities) if facilities is not None else list(facility_list())
    free = free_stock(sku_ids=list(need), facilities=candidates, customer=customer)
    candidates = [f for f in candidates if f.pk in free]
    candidates.sort(key=lambda f: distance_key(f, destination))
    meets = {
        f.pk: can_meet(brand=brand, facility=f, platform=platform, paid_at=paid_at, now=now, deadline=deadline)
        for f in candidates
    }

    def holds_all(f: Facility) -> bool:
        stock = free.get(f.pk, {})
        return all(stock.get(sku_id, 0) >= units for sku_id, units in need.items())

    whole = [f for f in candidates if holds_all(f)]
    for f in whole:
        if meets[f.pk]:
            return RoutePlan(legs=[RouteLeg(facility=f, lines=list(lines))])
    if policy.split_allowed:
        plan = _split(lines=lines, recipes=recipes, free=free, candidates=[f for f in candidates if meets[f.pk]])
        if plan is not None and plan.is_split:
            plan.split_fee = (policy.split_fee * (len(plan.legs) - 1)).quantize(Decimal("0.01"))
            return plan
    if whole:  # nobody can make the cutoff: the nearest that holds it all, flagged late
        return RoutePlan(legs=[RouteLeg(facility=whole[0], lines=list(lines))], cutoff_met=False)
    if policy.split_allowed:
        plan = _split(lines=lines, recipes=recipes, free=free, candidates=candidates)
        if plan is not None:
            plan.split_fee = (policy.split_fee * (len(plan.legs) - 1)).quantize(Decimal("0.01"))
            plan.cutoff_met = all(meets[leg.facility.pk] for leg in plan.legs)
            return plan
    total = {sku_id: sum(stock.get(sku_id, 0) for stock in free.values()) for sku_id in need}
    codes = {sku.pk: sku.code for sku, _ in lines}
    short = [
        Reason("short", f"{codes.get(sku_id, sku_id)}: needs {units}, {total[sku_id]} free across facilities")
        for sku_id, units in need.items()
        if total[sku_id] < units
    ] or [Reason("short", "no facility, nor a split, covers every line")]
    return RoutePlan(short=short)


def _split(
    *,
    lines: Lines,
    recipes: dict[int, dict[int, int]],
    free: dict[int, dict[int, int]],
    candidates: list[Facility],
) -> RoutePlan | None:
    """Greedy: take the facility covering the most remaining units (nearer wins ties) until every line is covered.
    A kit unit is never split (it is built in one place)."""
    stock = {f.pk: dict(free.get(f.pk, {})) for f in candidates}
    remaining = [quantity for _, quantity in lines]
    legs: list[RouteLeg] = []
    used: set[int] = set()
    while any(remaining):
        best: tuple[int, Facility, list[int]] | None = None
        for f in candidates:
            if f.pk in used:
                continue
            left = dict(stock[f.pk])
            take: list[int] = []
            for (sku, _), want in zip(lines, remaining, strict=True):
                recipe = recipes.get(sku.pk) or {sku.pk: 1}
                units = min([want, *(left.get(c, 0) // per for c, per in recipe.items())])
                for c, per in recipe.items():
                    left[c] = left.get(c, 0) - units * per
                take.append(units)
            if sum(take) and (best is None or sum(take) > sum(best[2])):
                best = (sum(take), f, take)
        if best is None:
            return None
        _, facility, take = best
        used.add(facility.pk)
        legs.append(RouteLeg(facility=facility, lines=[(sku, n) for (sku, _), n in zip(lines, take, strict=True) if n]))
        remaining = [want - n for want, n in zip(remaining, take, strict=True)]
    return RoutePlan(legs=legs)
