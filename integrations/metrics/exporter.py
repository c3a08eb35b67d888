"""`/metrics`: the connector metrics in the Prometheus text format, read from the database at scrape time.

A custom collector of the official `prometheus_client` turns each family of `families.FAMILIES` into a gauge: one
series per connection (and per value of its second label), zeros where nothing happened for the families whose
silence means zero (a connection's subscribed topics, both dead-letter directions...), and, for ratios and
percentiles, the platform's own value as `hub_platform_<name>`. `hub_connection_info` carries each connection's name,
brand and status, so the numbers' labels stay ids.

The endpoint is refused unless the scraper shows the bearer token `METRICS_TOKEN` (compared in constant time) or
scrapes from an address in `METRICS_ALLOWED_IPS` (addresses or networks). Neither set: every scrape is refused. A
refusal names no metric."""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric

from integrations.metrics import series
from integrations.metrics.families import EXCEPTION_KINDS, FAMILIES, PREFIX, Family, help_text, platform_value
from integrations.metrics.series import ConnectionFacts, Point, Span
from warehouse.memo import memo_scope


class ConnectorCollector:
    """Collects every family at each scrape (`now` fixed for tests)."""

    def __init__(self, *, now: dt.datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        with memo_scope():  # the connections and the request counts are read once per scrape
            return iter(list(self._collect()))

    def _collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        facts = series.connection_facts()
        info = InfoMetricFamily(
            PREFIX + "connection", "A connection's name, brand and status (join on connection)",
            labels=["platform", "connection"],
        )  # fmt: skip
        for f in facts.values():
            info.add_metric([f.platform, str(f.id)], {"name": f.name, "brand": f.brand, "status": f.status})
        yield info
        for family in FAMILIES:
            window = family.window or dt.timedelta(0)
            points = family.compute(Span.ending(now, window))
            yield from _families(family, points, facts, seconds=window.total_seconds() or 1.0)


def _families(
    family: Family, points: list[Point], facts: dict[int, ConnectionFacts], *, seconds: float
) -> Iterator[Metric]:
    if not family.per_connection:
        gauge = GaugeMetricFamily(family.name, help_text(family), labels=[family.label])
        found = {p.label: p.value for p in points}
        for kind in sorted(set(EXCEPTION_KINDS) | set(found)):
            gauge.add_metric([kind], found.get(kind, 0.0))
        yield gauge
        return
    labels = ["platform", "connection", *([family.label] if family.label else [])]
    gauge = GaugeMetricFamily(family.name, help_text(family), labels=labels)
    values: dict[tuple[int, str], float] = {}
    if family.zeros is not None:
        for f in facts.values():
            for value in family.zeros(f):
                values[(f.id, value)] = 0.0
    per_platform: dict[str, list[Point]] = defaultdict(list)
    for point in points:
        if point.connection_id not in facts:
            continue  # created after the facts were read: the next scrape shows it
        values[(point.connection_id, point.label)] = point.value
        per_platform[facts[point.connection_id].platform].append(point)
    for (cid, second), number in sorted(values.items()):
        gauge.add_metric([facts[cid].platform, str(cid), *([second] if family.label else [])], number)
    yield gauge
    if family.platform_family:
        help_ = help_text(family) + " Per platform, over all its connections."
        platform_gauge = GaugeMetricFamily(family.platform_name, help_, labels=["platform"])
        for platform, its_points in sorted(per_platform.items()):
            pooled = platform_value(family, its_points, seconds)
            if pooled is not None:
                platform_gauge.add_metric([platform], pooled)
        yield platform_gauge


def exposition(*, now: dt.datetime | None = None) -> bytes:
    """The whole text exposition (a registry of its own: no process metrics of this one worker)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConnectorCollector(now=now))
    return generate_latest(registry)


# --- the endpoint ------------------------------------------------------------------------------------------------


def _token_matches(request: HttpRequest) -> bool:
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _address_allowed(request: HttpRequest) -> bool:
    """REMOTE_ADDR only: a forwarded-for header is the client's to write."""
    allowed = getattr(settings, "METRICS_ALLOWED_IPS", []) or []
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(str(entry).strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_token_matches(request) or _address_allowed(request)):
        if getattr(settings, "METRICS_TOKEN", ""):
            response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
