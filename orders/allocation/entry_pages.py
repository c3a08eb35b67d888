"""The managers' forms of issue 16 §5: wholesale reservations and scheduled inbound for pre-orders, each a list with
its form on the same page. Brand users see and enter their own brands' only; finance and operations read them. The
checks and who may enter live in `orders.allocation.entries`; refusals come back in plain words, the form kept."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from inventory.page_support import is_brand_user, run_service
from orders.allocation import entries
from orders.allocation.models import ContractReservation, ScheduledInbound
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import InvalidInput
from warehouse.models import Facility
from warehouse.roles import brands_visible_to, scope_to_brands

PER_PAGE = 50


def _may_read(user: Any, permission: str) -> bool:
    return bool(user.has_perm(permission) or is_brand_user(user))


def _form_context(user: Any, permission: str) -> dict[str, Any]:
    may_enter = entries.may_enter(user, None, permission)
    return {
        "may_enter": may_enter,
        "brands": list(brands_visible_to(user).order_by("name")) if may_enter else [],
        "facilities": list(Facility.objects.order_by("code")) if may_enter else [],
    }


def _brand_of(user: Any, raw: str) -> Any:
    """The brand picked on the form (its id, or its slug), among the user's own."""
    brands = brands_visible_to(user)
    brand = brands.filter(pk=int(raw)).first() if raw.isdigit() else brands.filter(slug=raw).first()
    if brand is None:
        raise InvalidInput("brand: choose one of your brands.")
    return brand


@login_required
@require_http_methods(["GET", "POST"])
def reservations_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read(user, "allocation.view_contractreservation"):
        raise PermissionDenied
    values: Any = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        if not entries.may_enter(user, None, entries.ADD_RESERVATION):
            raise PermissionDenied
        done = run_service(
            request,
            lambda: entries.reservation_enter(
                brand=_brand_of(user, values.get("brand", "")),
                customer=values.get("customer", ""),
                sku=values.get("sku", ""),
                facility=values.get("facility", ""),
                quantity=values.get("quantity", ""),
                contract_ref=values.get("contract_ref", ""),
                ship_date=values.get("ship_date", ""),
                actor=user,
            ),
            lambda r: f"Reserved {r.quantity} × {r.sku.code} at {r.facility.code} for {r.customer}.",
        )
        if done is not None:
            return HttpResponseRedirect(reverse("reservations"))
    found = scope_to_brands(ContractReservation.objects.select_related("brand", "sku", "facility"), user)
    page = BoundedCountPaginator(found.order_by("-pk"), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "allocation/reservations.html",
        {"nav": "reservations", "page": page, "values": values, **_form_context(user, entries.ADD_RESERVATION)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def scheduled_inbound_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read(user, "allocation.view_scheduledinbound"):
        raise PermissionDenied
    values: Any = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        if not entries.may_enter(user, None, entries.ADD_SCHEDULE):
            raise PermissionDenied
        done = run_service(
            request,
            lambda: entries.schedule_enter(
                brand=_brand_of(user, values.get("brand", "")),
                sku=values.get("sku", ""),
                facility=values.get("facility", ""),
                quantity=values.get("quantity", ""),
                expected_on=values.get("expected_on", ""),
                preorder_limit=values.get("preorder_limit", "0"),
                reference=values.get("reference", ""),
                actor=user,
            ),
            lambda s: (
                f"{s.expected_line.inbound.reference}: {s.quantity} × {s.sku.code} expected at {s.facility.code} on "
                f"{s.expected_on.isoformat()}, {s.preorder_limit} open to pre-orders."
            ),
        )
        if done is not None:
            return HttpResponseRedirect(reverse("scheduled-inbound"))
    found = scope_to_brands(ScheduledInbound.objects.with_line(), user, field="expected_line__inbound__brand")
    page = BoundedCountPaginator(found.order_by("received", "expected_line__inbound__expected_on", "pk"), PER_PAGE)
    return render(
        request,
        "allocation/scheduled_inbound.html",
        {
            "nav": "scheduled-inbound",
            "page": page.get_page(request.GET.get("page")),
            "values": values,
            **_form_context(user, entries.ADD_SCHEDULE),
        },
    )
