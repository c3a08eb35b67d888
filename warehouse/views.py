"""HTML pages of the operator's core: the landing redirect and the exception queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from warehouse.api.pagination import COUNT_LIMIT, BoundedCountPaginator
from warehouse.durations import duration_words
from warehouse.errors import DomainError
from warehouse.filters import ExceptionFilter
from warehouse.models import ExceptionItem, ExceptionKind
from warehouse.selectors import exception_queue_for, exceptions_for
from warehouse.services import exception_escalate, exception_resolve_by_hand

# How long each kind may wait before it is late (seed 001 control points: 4 h stalled picking, 24 h carrier ack).
EXCEPTION_TARGETS: dict[str, timedelta] = {
    ExceptionKind.PICKING_STALLED: timedelta(hours=1),
    ExceptionKind.SHORT_PICK: timedelta(hours=2),
    ExceptionKind.CARRIER_ACK_MISSING: timedelta(hours=4),
    ExceptionKind.ORDER_ON_HOLD: timedelta(hours=4),
    ExceptionKind.ORDER_SHORT: timedelta(hours=8),
    ExceptionKind.CANCEL_AFTER_PACK: timedelta(hours=2),
    ExceptionKind.ORDER_EDIT_AFTER_RELEASE: timedelta(hours=2),
    ExceptionKind.RETURN_AWAITING_TRIAGE: timedelta(hours=48),
    ExceptionKind.INVENTORY_DIVERGENCE: timedelta(hours=24),
    ExceptionKind.INVENTORY_DRIFT: timedelta(hours=24),
}
DEFAULT_TARGET = timedelta(hours=24)

# The named views of the queue the issue asks for, as tabs.
QUEUE_VIEWS = [
    ("", "All open"),
    (ExceptionKind.ORDER_ON_HOLD, "Orders on hold"),
    (ExceptionKind.PICKING_STALLED, "Stuck picking"),
    (ExceptionKind.CARRIER_ACK_MISSING, "No carrier acknowledgement"),
    (ExceptionKind.INVENTORY_DIVERGENCE, "Inventory divergences"),
    (ExceptionKind.RETURN_AWAITING_TRIAGE, "Returns awaiting triage"),
]

PAGE_SIZE = 50


def _human_age(age: timedelta) -> str:
    return duration_words(age)


# Objects with a page of their own, where a person acts on them (by URL name: this app imports none of them).
SUBJECT_PAGES = {
    ("orders", "order"): "order-page",
    ("returns", "return"): "return-page",
    ("inventory", "sku"): "catalog-sku",
    ("inventory", "expectedinbound"): "inbound-page",
    ("alerts", "incident"): "incident",
}


def subject_url(item: ExceptionItem) -> str | None:
    """Where a person fixes the cause: the object's own page (an order, a return, an incident …), else its console
    page."""
    if item.content_type is None or item.object_id is None:
        return None
    page = SUBJECT_PAGES.get((item.content_type.app_label, item.content_type.model))
    if page is not None:
        return reverse(page, args=[item.object_id])
    if item.content_type.model == "expectedinboundline" and isinstance((item.detail or {}).get("inbound"), int):
        return reverse("inbound-page", args=[item.detail["inbound"]]) + "#variances"  # decided on the inbound's page
    try:
        return reverse(f"admin:{item.content_type.app_label}_{item.content_type.model}_change", args=[item.object_id])
    except Exception:  # a model without a console page: no link rather than a broken one
        return None


def _row(item: ExceptionItem, now: Any) -> dict[str, Any]:
    age = now - item.opened_at
    target = EXCEPTION_TARGETS.get(item.kind, DEFAULT_TARGET)
    ratio = age / target if target else 0
    return {
        "item": item,
        "age": _human_age(age),
        "target": _human_age(target),
        "late": ratio >= 1,
        "near": 0.75 <= ratio < 1,
        "url": subject_url(item),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Brand users land on their orders; staff on the exception queue (or the console if they cannot see it)."""
    if request.user.has_perm("warehouse.view_exceptionitem"):
        return redirect("exception-queue")
    if request.user.is_staff:
        return redirect("admin:index")
    try:
        return redirect("orders")
    except NoReverseMatch:  # before the orders pages exist
        return redirect("stock")


@login_required
@require_http_methods(["GET", "POST"])
def exception_queue(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("warehouse.view_exceptionitem"):
        raise PermissionDenied
    if request.method == "POST":
        return _bulk_decide(request)
    queryset = exception_queue_for(user=user)
    resolved = request.GET.get("state") == "resolved"
    filterset = ExceptionFilter(
        request.GET or None, queryset=exceptions_for(user=user, state=request.GET.get("state")), request=request
    )
    items = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    page = BoundedCountPaginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    counts = _tab_counts(queryset)
    kind = request.GET.get("kind", "")
    tabs = [{"kind": k, "label": label, "n": counts[k], "active": k == kind} for k, label in QUEUE_VIEWS]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "warehouse/exception_queue.html",
        {
            "nav": "exceptions",
            "filter": filterset,
            "page": page,
            "rows": [_row(item, now) for item in page.object_list],
            "tabs": tabs,
            "can_decide": user.has_perm("warehouse.resolve_exceptionitem") and not resolved,
            "resolved": resolved,
            "query": query.urlencode(),
            "capped": getattr(page.paginator, "capped", False),
        },
    )


def _tab_counts(queryset: Any) -> dict[str, str]:
    """Each tab's count in one query, each bounded at COUNT_LIMIT (a GROUP BY over 100,000 open items costs ~90 ms;
    these bounded index scans a few ms). Shown as "10000+" past the bound."""
    parts: list[str] = []
    params: list[Any] = []
    for kind, _label in QUEUE_VIEWS:
        subset = queryset.filter(kind=kind) if kind else queryset
        sql, sub_params = subset.order_by().values("pk")[: COUNT_LIMIT + 1].query.sql_with_params()
        # the SQL is Django's own compilation of the queryset; values stay parameters
        parts.append(f"(SELECT count(*) FROM ({sql}) AS tab{len(parts)})")  # noqa: S608
        params.extend(sub_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {
        kind: f"{COUNT_LIMIT}+" if n > COUNT_LIMIT else str(n)
        for (kind, _label), n in zip(QUEUE_VIEWS, row or [], strict=False)
    }


def _bulk_decide(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("warehouse.resolve_exceptionitem"):
        raise PermissionDenied
    note = request.POST.get("note", "").strip()
    action = request.POST.get("action")
    service = {"resolve": exception_resolve_by_hand, "escalate": exception_escalate}.get(action or "")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    back = HttpResponseRedirect(request.get_full_path())
    if service is None or not ids:
        messages.error(request, "Choose at least one exception and an action.")
        return back
    if not note:
        messages.error(request, "Write a note saying what was decided.")
        return back
    done, refused = 0, []
    for item in exception_queue_for(user=user).filter(pk__in=ids):  # scoped: other brands' ids are ignored
        try:
            service(item=item, actor=user, note=note)
            done += 1
        except DomainError as exc:
            refused.append(f"#{item.pk}: {exc.message}")
    verb = "resolved" if action == "resolve" else "escalated"
    if done:
        messages.success(request, f"{done} exception{'s' if done != 1 else ''} {verb}.")
    for line in refused:
        messages.error(request, line)
    return back
