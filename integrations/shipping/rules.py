"""Which carrier service an order ships with: the rule table as data (`ShippingRule`), one place that reads an
order's facts (requirement, zone, parcel weights and sides) and one matcher. No match is an answer too: the order is
held with that reason named, never given a guessed service. The dry run replays the last packed orders under the
proposed rules beside the rules in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from integrations.carriers.base import CUSTOMS_UNION
from integrations.shipping.models import Requirement, ShippingRule, Zone
from orders.models import Order, OrderState, Parcel
from warehouse.models import Facility

NEXT_DAY_WORDS = {"next_day", "next-day", "nextday", "express", "overnight", "priority"}
ECONOMY_WORDS = {"economy", "ground", "saver", "slow"}
# Orders that were packed: still packed, or gone on since (the dry run replays what the packers saw).
PACKED_OR_LATER = (OrderState.PACKED, OrderState.DISPATCHED, OrderState.IN_TRANSIT, OrderState.DELIVERED)


@dataclass(frozen=True)
class OrderFacts:
    """What the rules look at, read once per order."""

    brand_id: int
    facility_id: int | None
    facility_country: str
    channel_id: int | None
    requirement: str
    country: str
    heaviest_grams: int
    longest_side_mm: int
    parcels: int

    @property
    def zone(self) -> str:
        if self.country == self.facility_country:
            return Zone.DOMESTIC
        return Zone.CUSTOMS_UNION if self.country in CUSTOMS_UNION else Zone.OUTSIDE


@dataclass(frozen=True)
class Choice:
    """A rule's answer (`rule` set) or why there is none (`reason`)."""

    rule: ShippingRule | None
    reason: str = ""

    @property
    def label(self) -> str:
        if self.rule is None:
            return f"held: {self.reason}"
        return f"{self.rule.carrier} {self.rule.service} ({self.rule.service_name})"


def requirement_of(order: Order) -> str:
    """The order's delivery requirement, from the priority class or shipping method its channel sent."""
    extra = order.extra if isinstance(order.extra, dict) else {}
    words = {str(order.priority_class or "").strip().lower()}
    for key in ("delivery_requirement", "shipping_method", "shipping_service"):
        if extra.get(key):
            words.add(str(extra[key]).strip().lower().replace(" ", "_"))
    if words & NEXT_DAY_WORDS:
        return Requirement.NEXT_DAY
    if words & ECONOMY_WORDS:
        return Requirement.ECONOMY
    return Requirement.STANDARD


def order_facts(order: Order, parcels: Sequence[Parcel], facility: Facility | None = None) -> OrderFacts:
    """The order's facts as the rules see them; `facility` is the leg's of a split order (default the order's)."""
    facility = facility or order.facility
    return OrderFacts(
        brand_id=order.brand_id,
        facility_id=facility.pk if facility else None,
        facility_country=(facility.country if facility else "").upper(),
        channel_id=order.channel_id,
        requirement=requirement_of(order),
        country=(order.delivery_country or "").upper(),
        heaviest_grams=max((p.weight_grams for p in parcels), default=0),
        longest_side_mm=max((max(p.length_mm, p.width_mm, p.height_mm) for p in parcels), default=0),
        parcels=len(parcels),
    )


def rule_matches(rule: ShippingRule, facts: OrderFacts) -> bool:
    if rule.brand_id is not None and rule.brand_id != facts.brand_id:
        return False
    if rule.facility_id is not None and rule.facility_id != facts.facility_id:
        return False
    if rule.requirement == Requirement.CHANNEL:
        if rule.channel_id != facts.channel_id:
            return False
    elif rule.requirement != Requirement.ANY and rule.requirement != facts.requirement:
        return False
    if rule.zone != Zone.ANY and rule.zone != facts.zone:
        return False
    countries = rule.country_list()
    if countries and facts.country not in countries:
        return False
    if facts.heaviest_grams < rule.min_weight_grams:
        return False
    if rule.max_weight_grams is not None and facts.heaviest_grams > rule.max_weight_grams:
        return False
    return not (rule.max_side_mm is not None and facts.longest_side_mm > rule.max_side_mm)


def _why_none(facts: OrderFacts) -> str:
    return (
        f"no shipping rule covers this order ({facts.requirement.replace('_', ' ')}, to {facts.country or '?'}, "
        f"heaviest parcel {facts.heaviest_grams} g, longest side {facts.longest_side_mm} mm)"
    )


def choose(facts: OrderFacts, rules: Iterable[ShippingRule]) -> Choice:
    """The first matching rule by priority (a more specific rule first at equal priority), or why none."""
    ranked = sorted(
        rules,
        key=lambda r: (r.priority, r.brand_id is None, r.facility_id is None, r.channel_id is None, r.pk or 0),
    )
    for rule in ranked:
        if rule_matches(rule, facts):
            return Choice(rule)
    return Choice(None, _why_none(facts))


def rules_for(order: Order, *, proposed: bool = False, facility: Facility | None = None) -> list[ShippingRule]:
    """The rules that could apply to the order (its brand's or everyone's, its facility's, or the leg's `facility`,
    or everywhere)."""
    flag = Q(proposed=True) if proposed else Q(active=True)
    facility_id = facility.pk if facility is not None else order.facility_id
    return list(
        ShippingRule.objects.filter(flag)
        .filter(Q(brand__isnull=True) | Q(brand_id=order.brand_id))
        .filter(Q(facility__isnull=True) | Q(facility_id=facility_id))
    )


def service_choose(*, order: Order, parcels: Sequence[Parcel], facility: Facility | None = None) -> Choice:
    """The service for the order's parcels; for one leg of a split order, under the rules of the leg's facility."""
    return choose(order_facts(order, parcels, facility), rules_for(order, facility=facility))


@dataclass(frozen=True)
class DryRunRow:
    order: Order
    now: Choice
    proposed: Choice

    @property
    def changed(self) -> bool:
        return self.now.label != self.proposed.label


def rules_dry_run(*, limit: int = 100) -> list[DryRunRow]:
    """The last `limit` packed orders: the service each gets under the rules in force and under the proposed ones."""
    orders = list(
        Order.objects.filter(state__in=PACKED_OR_LATER)
        .select_related("facility", "brand")
        .prefetch_related("parcels")
        .order_by("-updated_at", "-id")[:limit]
    )
    live = list(ShippingRule.objects.filter(active=True))
    proposal = list(ShippingRule.objects.filter(proposed=True))
    rows = []
    for order in orders:
        facts = order_facts(order, list(order.parcels.all()))
        rows.append(DryRunRow(order=order, now=choose(facts, live), proposed=choose(facts, proposal)))
    return rows
