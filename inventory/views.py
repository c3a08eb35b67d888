"""Stock page: what is on the shelf and free to promise, per SKU and facility, scoped to the user's brands; and the
count correction workflow: operations propose a count for a row, a manager approves or rejects it here."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from inventory.proposals import PROPOSE_PERMISSION, count_approve, count_propose, count_reject, proposal_status
from inventory.selectors import stock_levels
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import DomainError
from warehouse.models import ExceptionItem, ExceptionKind
from warehouse.roles import brands_visible_to, scope_to_brands, sees_all_brands
from warehouse.selectors import exception_queue_for

APPROVE_PERMISSION = "inventory.approve_cycle_count"


def _proposals(user: Any) -> Any:
    return exception_queue_for(user=user).filter(
        kind=ExceptionKind.OTHER, content_type__app_label="inventory", content_type__model="stocklevel"
    )


def _own_proposals(user: Any) -> list[ExceptionItem]:
    """The counts this user proposed, newest first, with their status (decided ones too), so the person who counted
    sees what became of it."""
    items = scope_to_brands(
        ExceptionItem.objects.filter(
            kind=ExceptionKind.OTHER,
            content_type__app_label="inventory",
            content_type__model="stocklevel",
            detail__proposal__proposed_by=user.pk,
        ).select_related("decided_by"),
        user,
    ).order_by("-opened_at", "-id")[:20]
    found = list(items)
    for item in found:
        item.status = proposal_status(item)  # type: ignore[attr-defined]
    return found


@login_required
@require_http_methods(["GET"])
def stock_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    brand_user = not sees_all_brands(user) and brands_visible_to(user).exists()
    if not (user.has_perm("inventory.view_stocklevel") or brand_user):
        raise PermissionDenied
    levels = scope_to_brands(stock_levels(), user, field="sku__brand")
    query = request.GET.get("q", "").strip()
    if query:
        levels = levels.filter(sku__code__iexact=query)
    page = BoundedCountPaginator(levels, 50).get_page(request.GET.get("page"))
    may_approve = user.has_perm(APPROVE_PERMISSION)
    return render(
        request,
        "inventory/stock_list.html",
        {
            "nav": "stock",
            "page": page,
            "q": query,
            "may_propose": user.has_perm(PROPOSE_PERMISSION),
            "may_approve": may_approve,
            "proposals": list(_proposals(user)[:50]) if may_approve else [],
            "own_proposals": _own_proposals(user) if user.has_perm(PROPOSE_PERMISSION) else [],
        },
    )


@login_required
@require_POST
def stock_propose_count(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    level = get_object_or_404(scope_to_brands(stock_levels(), user, field="sku__brand"), pk=pk)
    counted = request.POST.get("counted", "").strip()
    try:
        count_propose(
            level=level, counted=int(counted) if counted.isdigit() else -1, reason=request.POST.get("reason", ""),
            actor=user,
        )  # fmt: skip
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Count for {level.sku.code} at {level.facility.code} sent for approval.")
    return HttpResponseRedirect(reverse("stock"))


@login_required
@require_POST
def stock_decide_count(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied
    item = get_object_or_404(_proposals(user), pk=pk)
    note = request.POST.get("note", "")
    try:
        if request.POST.get("decision") == "approve":
            count_approve(item=item, actor=user, note=note)
            messages.success(request, "Count approved: stock corrected, variance in the ledger.")
        else:
            count_reject(item=item, actor=user, note=note)
            messages.success(request, "Count rejected.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("stock"))
