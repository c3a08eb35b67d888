"""What a brand's SLO page and its monthly statement show, read from the daily rollup (`SloDay`), the minute
rollup of the last six hours (`SloMinute`: the burn-rate windows) and the incidents."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from integrations.models import Connection, platform_name
from reports.slo.budget import BURN_ALERTS, PERIOD, Budget, Burning, burn_rates, burning
from reports.slo.incidents import Incident, incidents_touching
from reports.slo.measures import SLOS, Counts, Slo
from reports.slo.models import SloDay
from reports.slo.rollup import day_start
from warehouse.models import Brand

DAYS = PERIOD.days


@dataclass(frozen=True)
class Day:
    day: dt.date
    counts: Counts | None  # None: nothing counted that day

    @property
    def attainment(self) -> float | None:
        return self.counts.good / self.counts.valid if self.counts and self.counts.valid else None


@dataclass
class Card:
    """One SLO of one connection."""

    connection_id: int
    connection: str
    slo: Slo
    budget: Budget
    days: list[Day]
    rates: dict[dt.timedelta, float | None] = field(default_factory=dict)
    warning: Burning | None = None

    @property
    def events(self) -> int:
        return sum(d.counts.events for d in self.days if d.counts)

    @property
    def missed(self) -> int:
        return sum(d.counts.missed for d in self.days if d.counts)

    @property
    def hour_rate(self) -> float | None:
        return self.rates.get(BURN_ALERTS[0].long)


@dataclass
class BrandReport:
    brand: Brand
    first: dt.date
    last: dt.date
    cards: list[Card]
    incidents: list[Incident]

    @property
    def warnings(self) -> list[Burning]:
        return [c.warning for c in self.cards if c.warning is not None]


def brand_connections(brand: Brand) -> dict[int, str]:
    """The brand's connections, "name (platform)", by id."""
    rows = Connection.objects.filter(channel__brand=brand).select_related("channel").order_by("channel__name", "pk")
    return {c.pk: f"{c.channel.name} ({platform_name(c.channel.platform_code)})" for c in rows}


def _cards(connections: dict[int, str], first: dt.date, last: dt.date) -> list[Card]:
    rows = SloDay.objects.filter(connection_id__in=list(connections), day__gte=first, day__lte=last)
    by_key: dict[tuple[int, str], dict[dt.date, Counts]] = defaultdict(dict)
    for r in rows.order_by():
        by_key[(r.connection_id, r.slo)][r.day] = Counts(r.valid, r.good, r.events, r.missed)
    span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    cards = []
    for cid, name in connections.items():
        for slo in SLOS:
            counted = by_key.get((cid, slo.key), {})
            days = [Day(d, counted.get(d)) for d in span]
            budget = Budget(slo.target, sum(c.valid for c in counted.values()), sum(c.good for c in counted.values()))
            cards.append(Card(cid, name, slo, budget, days))
    return cards


def brand_report(brand: Brand, *, now: dt.datetime) -> BrandReport:
    """The rolling 30 days: today (UTC, up to the last rollup) and the 29 days before it; burn rates up to now."""
    last = now.astimezone(dt.UTC).date()
    first = last - dt.timedelta(days=DAYS - 1)
    connections = brand_connections(brand)
    cards = _cards(connections, first, last)
    ids = list(connections)
    all_rates = burn_rates(ids, now)
    for slo in SLOS:
        rates = all_rates[slo.key]
        fired = {b.connection_id: b for b in burning(slo, rates)}
        for card in cards:
            if card.slo is slo:
                card.rates = rates.get(card.connection_id, {})
                card.warning = fired.get(card.connection_id)
    incidents = incidents_touching(brand_id=brand.pk, connection_ids=ids, since=day_start(first))
    return BrandReport(brand, first, last, cards, incidents)


def month_report(brand: Brand, *, month: dt.date) -> BrandReport:
    """One calendar month (UTC), for the statement: no burn rates (they are about now)."""
    first = month.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    connections = brand_connections(brand)
    incidents = incidents_touching(
        brand_id=brand.pk, connection_ids=list(connections), since=day_start(first),
        until=day_start(last + dt.timedelta(days=1)),
    )  # fmt: skip
    return BrandReport(brand, first, last, _cards(connections, first, last), incidents)
