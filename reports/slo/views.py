"""The brand SLO pages (issue 19): `/slo/` (the brands the user may see; a brand user of one brand goes straight to
it), `/slo/<brand>/` (the three SLOs of each connection over the rolling 30 days, burn-rate banners, incidents),
`/slo/<brand>/missed/` (the events that missed on one day, each order with its timeline) and the monthly statement
(`/slo/<brand>/statement/<pdf|csv>/?month=YYYY-MM`).

Deny by default: staff roles holding `view_brand_data` globally see every brand; a brand user sees their own brands
(django-guardian); another brand's pages are a 404, as if it did not exist; anyone else gets a 403 at `/slo/`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from orders.models import Order
from orders.wording import brand_words
from reports.slo import statement
from reports.slo.budget import BURN_ALERTS
from reports.slo.charts import daily_chart
from reports.slo.measures import BY_KEY, SLOS, misses
from reports.slo.report import Card, brand_connections, brand_report, month_report
from reports.slo.rollup import day_start
from warehouse.models import Brand
from warehouse.roles import brands_visible_to, sees_all_brands

MISSES_SHOWN = 100  # the evidence page lists this many (slowest first) and says how many there are in all
STATEMENT_MONTHS = 12


def _brand(user: Any, pk: int) -> Brand:
    brand = brands_visible_to(user).filter(pk=pk).first()
    if brand is None:
        raise Http404("No such brand.")
    return brand


def _brand_and_others(user: Any, pk: int) -> tuple[Brand, bool]:
    """The brand if the user may see it (else 404), and whether they see others too, in one query."""
    visible = {b.pk: b for b in brands_visible_to(user).order_by().only("pk", "name", "slug")}  # a few dozen
    if pk not in visible:
        raise Http404("No such brand.")
    return visible[pk], len(visible) > 1


@login_required
@require_GET
def slo_index(request: HttpRequest) -> HttpResponse:
    brands = list(brands_visible_to(request.user).order_by("name"))
    if not brands:
        raise PermissionDenied
    if len(brands) == 1:
        return HttpResponseRedirect(reverse("slo-brand", args=[brands[0].pk]))
    return render(request, "reports/slo/index.html", {"nav": "slo", "brands": brands})


def _missed_link(brand: Brand, card: Card) -> Any:
    base = reverse("slo-missed", args=[brand.pk])
    return lambda day: f"{base}?slo={card.slo.key}&connection={card.connection_id}&day={day.day.isoformat()}"


def _months(today: dt.date) -> list[dt.date]:
    months, first = [], today.replace(day=1)
    for _ in range(STATEMENT_MONTHS):
        months.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return months


@login_required
@require_GET
def slo_brand(request: HttpRequest, pk: int) -> HttpResponse:
    brand, others = _brand_and_others(request.user, pk)
    now = timezone.now()
    report = brand_report(brand, now=now)
    for card in report.cards:
        card.chart = daily_chart(  # type: ignore[attr-defined]
            card.days, target=card.slo.target, title=f"{card.slo.name}, {card.connection}: daily attainment",
            link=_missed_link(brand, card),
        )  # fmt: skip
    return render(
        request,
        "reports/slo/brand.html",
        {
            "nav": "slo",
            "brand": brand,
            "report": report,
            "slos": SLOS,
            "alerts": BURN_ALERTS,
            "months": _months(report.last),
            "other_brands": others,
        },
    )


def _timeline(order: Order, *, internal: bool) -> list[dict[str, Any]]:
    """The order's timeline as on its page: a brand reads `orders.wording`, staff the events' own messages."""
    lines = []
    for e in order.events.all():
        words = (e.get_kind_display(), e.message) if internal else brand_words(e)
        if words is not None:
            lines.append({"at": e.at, "title": words[0], "text": words[1]})
    return lines


@login_required
@require_GET
def slo_missed(request: HttpRequest, pk: int) -> HttpResponse:
    """The events of one SLO and connection that missed on one day, slowest first, each order with its timeline."""
    brand = _brand(request.user, pk)
    slo = BY_KEY.get(request.GET.get("slo", ""))
    connections = brand_connections(brand)
    raw_connection, raw_day = request.GET.get("connection", ""), request.GET.get("day", "")
    connection_id = int(raw_connection) if raw_connection.isdigit() else None
    try:
        day = dt.date.fromisoformat(raw_day)
    except ValueError:
        day = None
    if slo is None or connection_id not in connections or day is None:
        raise Http404("No such SLO, connection or day.")
    since = day_start(day)
    found, total = misses(slo, [connection_id], since, since + dt.timedelta(days=1), limit=MISSES_SHOWN)
    orders = Order.objects.filter(pk__in=[m.order_id for m in found if m.order_id]).prefetch_related("events")
    by_id = {o.pk: o for o in orders}
    internal = sees_all_brands(request.user)
    rows = [
        {"miss": m, "order": by_id.get(m.order_id or 0),
         "timeline": _timeline(by_id[m.order_id], internal=internal) if m.order_id in by_id else []}
        for m in found
    ]  # fmt: skip
    return render(
        request,
        "reports/slo/missed.html",
        {
            "nav": "slo", "brand": brand, "slo": slo, "connection": connections[connection_id], "day": day,
            "rows": rows, "total": total, "shown": len(rows),
            # the order page is for those who read orders (a brand user reads their own; an administrator none)
            "order_links": request.user.has_perm("orders.view_order") or not internal,
        },
    )  # fmt: skip


@login_required
@require_GET
def slo_statement(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    brand = _brand(request.user, pk)
    if format not in statement.FORMATS:
        raise Http404("No such format.")
    raw = request.GET.get("month", "")
    month = timezone.now().astimezone(dt.UTC).date().replace(day=1)
    if raw:
        try:
            month = dt.date.fromisoformat(f"{raw}-01")
        except ValueError:
            return HttpResponseBadRequest("month: write it as YYYY-MM, e.g. 2026-11.", content_type="text/plain")
    report = month_report(brand, month=month)
    body, content_type = statement.FORMATS[format](report)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="slo-{brand.slug}-{month:%Y-%m}.{format}"'
    return response
