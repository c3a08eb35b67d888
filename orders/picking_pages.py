"""The floor's pages: the pick queue (accepted, picking, held and picked orders per facility), one order's pick page
(its pick list with the expected SKU and where to pick it, a scan box with a quantity, a short-pick button per line,
and a manager's decisions on a short pick), and the pack page (add parcels, then "Packed"). Every button calls the
same services as the API (`orders.services`); refusals are shown in words. The pick page reads one page of pick lines
at a time, so its queries stay constant in the order's size."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from inventory.page_support import is_brand_user, run_service
from orders.models import OPERATE_ORDER, Order, OrderState, Parcel, PickLine
from orders.picking_api import QUEUE_STATES
from orders.selectors import order_list_visible_to
from orders.services import (
    FORCE_ORDER,
    order_cancel_short_line,
    order_pack_parcels,
    order_pick,
    order_release_to_pick,
    order_resume_from_floor_hold,
    order_short_pick,
    parcel_add,
    parcel_remove,
)
from orders.services.packing import MEASURES
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.models import Facility

LINES_PER_PAGE = 100
QUEUE_PER_PAGE = 50


def _user(request: HttpRequest) -> Any:
    return request.user


def _may_read(user: Any) -> bool:
    return bool(user.has_perm("orders.view_order") or is_brand_user(user))


def _visible(user: Any) -> QuerySet[Order]:
    return order_list_visible_to(user=user)


def _order_for(request: HttpRequest, pk: int) -> Order:
    if not _may_read(request.user):
        raise PermissionDenied
    return get_object_or_404(_visible(request.user), pk=pk)


def _back(order: Order, name: str = "pick-page") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse(name, args=[order.pk]))


@login_required
@require_http_methods(["GET"])
def pick_queue(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read(user):
        raise PermissionDenied
    facilities = list(Facility.objects.order_by("code"))
    facility = request.GET.get("facility", "")
    orders = _visible(user).filter(state__in=QUEUE_STATES).order_by("ship_by", "id")
    if facility:
        orders = orders.filter(facility__code=facility)
    orders = orders.annotate(
        units=Sum("pick_lines__expected"), picked=Sum("pick_lines__picked"), short=Sum("pick_lines__short")
    )
    page = BoundedCountPaginator(orders, QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/pick_queue.html",
        {
            "nav": "picking",
            "page": page,
            "facilities": facilities,
            "facility": facility,
            "may_release": user.has_perm(OPERATE_ORDER),
        },
    )


@login_required
@require_http_methods(["GET"])
def pick_page(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    order = _order_for(request, pk)
    lines = PickLine.objects.filter(order=order).select_related("sku", "facility", "line").order_by("id")
    page = BoundedCountPaginator(lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
    totals = PickLine.objects.filter(order=order).aggregate(
        units_expected=Sum("expected"),
        units_picked=Sum("picked"),
        units_short=Sum("short"),
        open=Count("id", filter=Q(picked__lt=F("expected") - F("short"))),
        short_lines=Count("line", filter=Q(short__gt=0), distinct=True),
    )
    short_lines = []
    if order.state == OrderState.FLOOR_HOLD and totals["short_lines"]:
        short_lines = list(
            PickLine.objects.filter(order=order, short__gt=0).select_related("sku", "line").order_by("id")[:50]
        )
    operate = user.has_perm(OPERATE_ORDER)
    return render(
        request,
        "orders/pick_page.html",
        {
            "nav": "picking",
            "order": order,
            "page": page,
            "totals": totals,
            "short_lines": short_lines,
            "may_pick": operate and order.state == OrderState.PICKING,
            "may_release": operate and order.state == OrderState.ACCEPTED,
            "may_decide": user.has_perm(FORCE_ORDER)
            and order.state == OrderState.FLOOR_HOLD
            and order.held_from == OrderState.PICKING,
        },
    )


@login_required
@require_POST
def pick_release(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    run_service(
        request,
        lambda: order_release_to_pick(order=order, actor=_user(request)),
        lambda o: f"Order {o.platform_order_id or o.pk} released to pick.",
    )
    return _back(order)


@login_required
@require_POST
def pick_scan(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    done = run_service(
        request,
        lambda: order_pick(
            order=order,
            code=request.POST.get("code", ""),
            quantity=request.POST.get("quantity", "1"),
            pick_line=request.POST.get("pick_line") or None,
            actor=_user(request),
        ),
        lambda o: "Picked. Every line is picked: on to packing." if o.state == OrderState.PICKED else "Picked.",
    )
    if done is not None and done.state == OrderState.PICKED:
        return _back(order, "pack-page")
    return _back(order)


@login_required
@require_POST
def pick_short(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    run_service(
        request,
        lambda: order_short_pick(
            order=order,
            pick_line=request.POST.get("pick_line", ""),
            note=request.POST.get("note", ""),
            actor=_user(request),
        ),
        lambda o: "Short pick recorded: the order waits for a manager, and the shelf is to be counted.",
    )
    return _back(order)


@login_required
@require_POST
def pick_resume(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    run_service(
        request,
        lambda: order_resume_from_floor_hold(order=order, note=request.POST.get("note", ""), actor=_user(request)),
        lambda o: f"Hold over: the order is {o.get_state_display().lower()} again.",
    )
    return _back(order)


@login_required
@require_POST
def pick_cancel_line(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    done = run_service(
        request,
        lambda: order_cancel_short_line(
            order=order,
            line_number=request.POST.get("line", ""),
            reason=request.POST.get("reason", ""),
            actor=_user(request),
        ),
        lambda o: f"Line cancelled: the order is {o.get_state_display().lower()}.",
    )
    if done is not None and done.state == OrderState.PICKED:
        return _back(order, "pack-page")
    return _back(order)


@login_required
@require_http_methods(["GET"])
def pack_page(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    order = _order_for(request, pk)
    parcels = list(Parcel.objects.filter(order=order).order_by("number"))
    values = request.session.pop("pack_values", {})
    return render(
        request,
        "orders/pack_page.html",
        {
            "nav": "picking",
            "order": order,
            "parcels": parcels,
            "measures": [(f, words, most, values.get(f, "")) for f, (words, most) in MEASURES.items()],
            "may_pack": user.has_perm(OPERATE_ORDER) and order.state == OrderState.PICKED,
        },
    )


@login_required
@require_POST
def pack_parcel_add(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    values = {field: request.POST.get(field, "") for field in MEASURES}
    made = run_service(
        request,
        lambda: parcel_add(order=order, measures=values, actor=_user(request)),
        lambda p: f"Parcel {p.number} added.",
    )
    if made is None:
        request.session["pack_values"] = values  # what the person typed stays on the form
    return _back(order, "pack-page")


@login_required
@require_POST
def pack_parcel_remove(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    order = _order_for(request, pk)
    run_service(
        request,
        lambda: parcel_remove(order=order, number=number, actor=_user(request)),
        lambda o: f"Parcel {number} taken off.",
    )
    return _back(order, "pack-page")


@login_required
@require_POST
def pack_done(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for(request, pk)
    run_service(
        request,
        lambda: order_pack_parcels(order=order, actor=_user(request)),
        lambda o: "Packed: staged for the carrier.",
    )
    return _back(order, "pack-page")
