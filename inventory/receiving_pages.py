"""Receiving in the console: the expected inbound list, a new inbound (brand users for their own brands, managers for
any), and one inbound's page where operations receive by scan or by line and a manager decides each over, short or
unexpected receipt. The rules live in `inventory.receiving`; the page's queries stay constant in the number of lines
(one page of lines at a time, each with its SKU joined)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from inventory import receiving
from inventory.models import ExpectedInbound, ExpectedInboundLine, InboundKind, InboundState, VarianceState
from inventory.page_support import is_brand_user, parse_pairs, run_service
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import InvalidInput
from warehouse.models import Facility
from warehouse.roles import brands_visible_to, scope_to_brands

LINES_PER_PAGE = 100


def _may_read(user: Any) -> bool:
    return bool(user.has_perm("inventory.view_expectedinbound") or is_brand_user(user))


def _visible(user: Any) -> Any:
    return scope_to_brands(ExpectedInbound.objects.select_related("brand", "facility"), user)


def _inbound_for(request: HttpRequest, pk: int) -> ExpectedInbound:
    if not _may_read(request.user):
        raise PermissionDenied
    return get_object_or_404(_visible(request.user), pk=pk)


def _back(inbound: ExpectedInbound, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("inbound-page", args=[inbound.pk]) + (f"#{anchor}" if anchor else ""))


def _may_create(user: Any) -> bool:
    return bool(user.has_perm(receiving.ADD_INBOUND) or is_brand_user(user))


@login_required
@require_http_methods(["GET"])
def inbound_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read(user):
        raise PermissionDenied
    inbound = _visible(user)
    state = request.GET.get("state", "")
    if state in InboundState.values:
        inbound = inbound.filter(state=state)
    page = BoundedCountPaginator(inbound, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "inventory/inbound_list.html",
        {"nav": "inbound", "page": page, "state": state, "states": InboundState.choices,
         "may_create": _may_create(user)},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def inbound_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_create(user):
        raise PermissionDenied
    brands = list(brands_visible_to(user).order_by("name"))
    facilities = list(Facility.objects.order_by("code"))
    values: Any = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        brand = next((b for b in brands if values.get("brand") in (str(b.pk), b.slug)), None)
        facility = next((f for f in facilities if values.get("facility") in (str(f.pk), f.code)), None)

        def create() -> ExpectedInbound:
            if brand is None or facility is None:
                raise InvalidInput("Choose the brand and the facility.")
            try:
                expected_on = dt.date.fromisoformat(values.get("expected_on", "").strip())
            except ValueError as exc:
                raise InvalidInput("Give the expected date (YYYY-MM-DD).") from exc
            lines = parse_pairs(values.get("lines", ""), what="line")
            return receiving.expected_inbound_create(
                brand=brand, facility=facility, reference=values.get("reference", ""), expected_on=expected_on,
                lines=lines, actor=user, kind=values.get("kind", InboundKind.ASN),
            )  # fmt: skip

        created = run_service(request, create, lambda i: f"{i} announced with {i.lines.count()} lines.")
        if created is not None:
            return _back(created)
    return render(
        request,
        "inventory/inbound_new.html",
        {"nav": "inbound", "brands": brands, "facilities": facilities, "values": values, "kinds": InboundKind.choices},
    )


@login_required
@require_http_methods(["GET"])
def inbound_page(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    inbound = _inbound_for(request, pk)
    lines = ExpectedInboundLine.objects.filter(inbound=inbound).select_related("sku", "decided_by").order_by("number")
    page = BoundedCountPaginator(lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
    variances = list(lines.filter(variance_state=VarianceState.OPEN)[:50])
    may_receive = user.has_perm(receiving.RECEIVE) and inbound.state != InboundState.CLOSED
    return render(
        request,
        "inventory/inbound_detail.html",
        {
            "nav": "inbound",
            "inbound": inbound,
            "page": page,
            "variances": variances,
            "may_receive": may_receive,
            "may_decide": user.has_perm(receiving.DECIDE),
        },
    )


def _actor(request: HttpRequest) -> Any:
    return request.user


def _receiver(request: HttpRequest, pk: int) -> ExpectedInbound:
    inbound = _inbound_for(request, pk)
    if not request.user.has_perm(receiving.RECEIVE):
        raise PermissionDenied
    return inbound


@login_required
@require_POST
def inbound_scan(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _receiver(request, pk)
    run_service(
        request,
        lambda: receiving.inbound_receive_scan(
            inbound=inbound,
            code=request.POST.get("code", ""),
            actor=_actor(request),
            quantity=request.POST.get("quantity", "1"),
        ),
        lambda receipt: receipt.words(),
    )
    return _back(inbound, "scan")


@login_required
@require_POST
def inbound_line_receive(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    inbound = _receiver(request, pk)
    line = get_object_or_404(ExpectedInboundLine.objects.select_related("sku", "inbound"), inbound=inbound,
                             number=number)  # fmt: skip
    run_service(
        request,
        lambda: receiving.inbound_receive_line(
            line=line, quantity=request.POST.get("quantity", ""), actor=_actor(request)
        ),
        lambda receipt: receipt.words(),
    )
    return _back(inbound, f"line-{number}")


@login_required
@require_POST
def inbound_finish(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _receiver(request, pk)
    run_service(
        request,
        lambda: receiving.inbound_finish(inbound=inbound, actor=_actor(request)),
        lambda i: (
            "Receiving finished: inbound closed."
            if i.state == InboundState.CLOSED
            else "Receiving finished: the variances below wait for a manager's decision."
        ),
    )
    return _back(inbound, "variances")


@login_required
@require_POST
def inbound_decide(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    inbound = _inbound_for(request, pk)
    if not request.user.has_perm(receiving.DECIDE):
        raise PermissionDenied
    line = get_object_or_404(ExpectedInboundLine.objects.select_related("sku"), inbound=inbound, number=number)
    run_service(
        request,
        lambda: receiving.inbound_variance_decide(
            line=line,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
            actor=_actor(request),
        ),
        lambda done: (
            f"Line {done.number} ({done.sku.code}): {done.get_variance_display().lower() or 'short'} "
            f"{done.get_variance_state_display().lower() or 'kept open'}."
        ),
    )
    return _back(inbound, "variances")
