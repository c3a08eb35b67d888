"""Order pages: the list (brand users land here) and the order page with the support timeline in plain words, so
support can answer "where is my order" honestly. A manager fixes an on-hold order's delivery data here; the order
service re-validates it and the order moves on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from orders.allocation.models import OrderRoute
from orders.models import EDITABLE_STATES, Order
from orders.selectors import order_list_visible_to
from orders.wording import brand_words, return_words
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import DomainError
from warehouse.roles import brands_visible_to, sees_all_brands
from warehouse.selectors import exceptions_open_for

# What a support agent reads for each step (seed 002 "Support needs answers").
STEP_WORDS = {
    "received": "The warehouse received the order.",
    "validated": "Address, contact and quantities checked.",
    "accepted": "Stock allocated: the order is ready to pick.",
    "picking": "Being picked.",
    "picked": "Picked: every line is off the shelf.",
    "packed": "Packed and waiting for the carrier.",
    "dispatched": "Handed to the carrier: they have it (receipt, tracking number and time recorded).",
    "in_transit": "On its way: the carrier scanned it.",
    "delivered": "Delivered.",
    "on_hold": "On hold: something is missing or wrong; the warehouse is not guessing.",
    "cancelled": "Cancelled.",
}
HAPPY_PATH = [
    "received",
    "validated",
    "accepted",
    "picking",
    "picked",
    "packed",
    "dispatched",
    "in_transit",
    "delivered",
]
# Timeline entries that show a step was reached (an order on hold or cancelled still reached some of them).
STEP_OF_EVENT = {
    "received": "received",
    "validated": "validated",
    "accepted": "accepted",
    "released_to_pick": "picking",
    "picked": "picked",
    "packed": "packed",
    "handed_to_carrier": "dispatched",
    "in_transit": "in_transit",
    "delivered": "delivered",
}


class DeliveryFixForm(forms.Form):
    """The fields a manager may correct on an order that is not yet released to pick."""

    delivery_name = forms.CharField(max_length=200, required=False, label="Name")
    delivery_street1 = forms.CharField(max_length=200, required=False, label="Street")
    delivery_postal_code = forms.CharField(max_length=20, required=False, label="ZIP")
    delivery_city = forms.CharField(max_length=100, required=False, label="City")
    delivery_country = forms.CharField(max_length=2, required=False, label="Country (ISO)")
    contact_phone = forms.CharField(max_length=40, required=False, label="Phone")
    special_handling = forms.CharField(
        max_length=2000, required=False, label="Special handling", widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(max_length=500, required=False, label="Note", widget=forms.TextInput(attrs={"size": 40}))


def _may_read_orders(user: Any) -> bool:
    return bool(user.has_perm("orders.view_order") or (not sees_all_brands(user) and brands_visible_to(user).exists()))


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read_orders(user):
        raise PermissionDenied
    filters = {k: v for k, v in request.GET.items() if k in {"state", "platform_order_id", "brand"} and v}
    orders = order_list_visible_to(user=user, filters=filters)
    page = BoundedCountPaginator(orders, 50).get_page(request.GET.get("page"))
    page.object_list = _with_split_fees(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/order_list.html",
        {
            "nav": "orders",
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "brands": brands_visible_to(user),
            "states": Order._meta.get_field("state").choices,
        },
    )


def _with_split_fees(orders: list[Order]) -> list[Order]:
    """The brand sees which orders ship split and the estimated fee of each (one read per page)."""
    routes = OrderRoute.objects.filter(order_id__in=[order.pk for order in orders], split_fee__gt=0)
    fees = dict(routes.values_list("order_id", "split_fee"))
    for order in orders:
        order.split_fee = fees.get(order.pk)  # type: ignore[attr-defined]
    return orders


def _visible_order(user: Any, pk: int) -> Order:
    """The order if the user may see it; 404 otherwise (another brand's order does not exist for them)."""
    order = order_list_visible_to(user=user).filter(pk=pk).first()
    if order is None:
        raise Http404("No such order.")
    return order


def _timeline(order: Order, *, internal: bool = True) -> list[dict[str, Any]]:
    """Staff read each event's own message; a brand reads the plain words of `orders.wording` (internal reasons,
    state and field names stay internal)."""
    events: list[dict[str, Any]] = []
    for e in order.events.all():
        words = (e.get_kind_display(), e.message) if internal else brand_words(e)
        if words is not None:
            events.append({"at": e.at, "title": words[0], "text": words[1], "kind": e.kind})
    for shipment in order.shipments.all():
        for scan in shipment.events.all():
            events.append(
                {
                    "at": scan.occurred_at,
                    "title": f"Carrier scan ({shipment.carrier})",
                    "text": " · ".join(x for x in (scan.description, scan.location) if x),
                    "kind": "scan",
                }
            )
    for rma in order.returns.all():  # returns are the last chapter of "where is my order"
        events.append(
            {
                "at": rma.received_at or rma.created_at,
                "title": f"Return {rma.rma_number}",
                "text": return_words(rma.state, rma.get_state_display()),
                "kind": "return",
            }
        )
    events.sort(key=lambda e: e["at"])  # type: ignore[arg-type, return-value]
    return events


@login_required
@require_http_methods(["GET", "POST"])
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    if not _may_read_orders(user):
        raise Http404("No such order.")
    from orders.order_page_actions import order_page_context  # it reads the page's own helpers

    order = _visible_order(user, pk)
    can_fix = user.has_perm("orders.change_order") and order.state in EDITABLE_STATES
    form = DeliveryFixForm(initial={f: getattr(order, f, "") for f in DeliveryFixForm.base_fields if f != "note"})
    if request.method == "POST":
        if not can_fix:
            raise PermissionDenied
        form = DeliveryFixForm(request.POST)
        if form.is_valid():
            return _fix_delivery(request, order, form.cleaned_data)
    state = order.state
    timeline = _timeline(order, internal=sees_all_brands(user))
    seen = {STEP_OF_EVENT[e["kind"]] for e in timeline if e["kind"] in STEP_OF_EVENT}
    reached = max([HAPPY_PATH.index(state) if state in HAPPY_PATH else -1] + [HAPPY_PATH.index(step) for step in seen])
    labels = dict(Order._meta.get_field("state").choices or [])
    return render(
        request,
        "orders/order_detail.html",
        {
            "nav": "orders",
            "order": order,
            "now_words": STEP_WORDS.get(state, state),
            "steps": [{"label": labels.get(s, s), "done": i <= reached} for i, s in enumerate(HAPPY_PATH)],
            "timeline": timeline,
            "lines": list(order.lines.all()),
            "allocation_rows": list(order.allocation_rows.select_related("line", "sku", "facility").order_by("id")),
            "shipments": list(order.shipments.all()),
            "hold_reasons": order.hold_reasons if state == "on_hold" else [],
            "open_exceptions": list(exceptions_open_for(subject=order))
            if user.has_perm("warehouse.view_exceptionitem")
            else [],
            "can_fix": can_fix,
            "form": form,
            "console_url": reverse("admin:orders_order_change", args=[order.pk]) if user.is_staff else None,
            **order_page_context(order, user),
        },
    )


def _fix_delivery(request: HttpRequest, order: Order, data: dict[str, Any]) -> HttpResponse:
    from orders.services import order_edit

    data.pop("note")
    address = {
        key.removeprefix("delivery_"): value.strip()
        for key, value in data.items()
        if key.startswith("delivery_") and value.strip() != (getattr(order, key) or "")
    }
    phone = data.get("contact_phone", "").strip()
    handling = data.pop("special_handling", "").strip()
    try:
        order_edit(
            order=order,
            actor=request.user,  # type: ignore[arg-type]
            address=address or None,
            phone=phone if phone != (order.contact_phone or "") else None,
            special_handling=handling if handling != (order.special_handling or "") else None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        order.refresh_from_db()
        messages.success(request, f"Order updated. It is now {order.get_state_display().lower()}.")
    return HttpResponseRedirect(reverse("order-page", args=[order.pk]))
