"""The managers' list of orders at risk of their cutoff (issue 6 §3): ship-by approaching or passed and not packed
yet, soonest first, with the ship-by in the facility's own time zone and the time left. Brand users see only their
own brands' orders, like every order list.

The brand's allocation policy page (issue 6 §1, seed 000 "the brand sees the allocation policy in their console and
can adjust it"): the policy in plain words with its recent changes; brand users holding `adjust_own_policy` and
administrators change it with the console's form and a required "why", saved through `allocation_policy_update`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import modelform_factory
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from orders.allocation.forms import REASON_FIELD, AllocationPolicyForm
from orders.allocation.models import AllocationPolicy, PriorityClass
from orders.allocation.selectors import allocation_policy_for, orders_at_risk
from orders.allocation.services import POLICY_FIELDS, allocation_policy_update
from orders.models import Order
from orders.views import _may_read_orders as may_read_orders
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.durations import duration_words
from warehouse.models import Brand, Facility
from warehouse.roles import brands_visible_to, scope_to_brands
from warehouse.selectors import sales_channels_of

WITHIN_HOURS = [1, 2, 4, 8, 24]
DEFAULT_WITHIN = 4
SOON = dt.timedelta(hours=1)  # under an hour left: shown as urgent


def time_left_words(left: dt.timedelta) -> str:
    """'1 h 05 min left', '12 min left' or 'overdue by 35 min'."""
    words = duration_words(left)
    return f"overdue by {words}" if left < dt.timedelta(0) else f"{words} left"


def _row(order: Order, now: dt.datetime) -> dict[str, Any]:
    assert order.ship_by is not None  # the selector only lists orders with a ship-by
    zone = ZoneInfo(order.facility.time_zone if order.facility and order.facility.time_zone else "UTC")
    left = order.ship_by - now
    return {
        "order": order,
        "ship_by_local": order.ship_by.astimezone(zone),
        "zone": zone.key,
        "left": time_left_words(left),
        "overdue": left < dt.timedelta(0),
        "urgent": left < SOON,
        "hard": order.is_marketplace,
    }


def _int_or_none(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@login_required
@require_GET
def orders_at_risk_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not may_read_orders(user):
        raise PermissionDenied
    now = timezone.now()
    within = _int_or_none(request.GET.get("within"))
    within = within if within in WITHIN_HOURS else DEFAULT_WITHIN
    brands = brands_visible_to(user)
    brand_id = _int_or_none(request.GET.get("brand"))
    may_filter_facility = user.has_perm("warehouse.view_facility")
    facility_id = _int_or_none(request.GET.get("facility")) if may_filter_facility else None
    brand = brands.filter(pk=brand_id).first() if brand_id else None
    facility = Facility.objects.filter(pk=facility_id).first() if facility_id else None
    if (brand_id and brand is None) or (facility_id and facility is None):
        orders = Order.objects.none()  # not one of the user's brands (or no such facility): nothing, never all
    else:
        orders = orders_at_risk(brand=brand, facility=facility, within=dt.timedelta(hours=within), now=now)
        orders = scope_to_brands(orders, user)
    page = BoundedCountPaginator(orders, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "orders/orders_at_risk.html",
        {
            "nav": "at-risk",
            "page": page,
            "rows": [_row(order, now) for order in page.object_list],
            "within": within,
            "within_choices": WITHIN_HOURS,
            "brands": brands,
            "brand_id": brand_id,
            "facilities": Facility.objects.order_by("code") if may_filter_facility else [],
            "facility_id": facility_id,
            "query": query.urlencode(),
            "now": now,
        },
    )


# The console's form without the brand field: here the brand is the one picked on the page, among the user's own.
BrandPolicyForm = modelform_factory(
    AllocationPolicy, form=AllocationPolicyForm, fields=[f for f in AllocationPolicyForm.Meta.fields if f != "brand"]
)
POLICY_HISTORY_SHOWN = 10


def may_adjust_policy(user: Any) -> bool:
    """Brand users through their role, administrators as in the console; always with brand scoping on top."""
    return bool(user.has_perm("allocation.adjust_own_policy") or user.has_perm("allocation.change_allocationpolicy"))


def _policy_words(policy: AllocationPolicy, brand: Brand) -> dict[str, Any]:
    """The classes in order, and which of the brand's channels are SLA-bound (the channels say, not the policy)."""
    labels = dict(PriorityClass.choices)
    channels = list(sales_channels_of(brand=brand))
    windows = [f"{c.name} ({c.sla_window_hours} h)" for c in channels if c.sla_window_hours]
    return {
        "classes": [labels.get(c, c) for c in policy.class_order],
        "prime": ", ".join(c.name for c in channels if c.is_marketplace) or "none",
        "window": ", ".join(windows) or "none",
    }


@login_required
@require_http_methods(["GET", "POST"])
def allocation_policy_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    may_adjust = may_adjust_policy(user)
    if not (may_adjust or user.has_perm("allocation.view_allocationpolicy")):
        raise PermissionDenied
    brands = brands_visible_to(user).order_by("name")
    raw = request.POST.get("brand") or request.GET.get("brand")
    if raw:
        brand = brands.filter(pk=_int_or_none(raw) or 0).first()
        if brand is None:
            raise Http404("No such brand among yours.")  # another brand's policy is never shown nor changed
    else:
        brand = brands.first()
    if brand is None:
        raise Http404("You see no brand.")
    policy = allocation_policy_for(brand=brand)
    initial = {name: getattr(policy, name) for name in POLICY_FIELDS}
    form = None
    if request.method == "POST":
        if not may_adjust:
            raise PermissionDenied
        # A fresh instance: the selector's policy may be memoised and must not take unsaved values.
        form = BrandPolicyForm(request.POST, instance=AllocationPolicy(brand=brand), initial=initial)
        if form.is_valid():
            allocation_policy_update(
                brand=brand,
                actor=user,
                reason=form.cleaned_data[REASON_FIELD],
                **{name: form.cleaned_data[name] for name in POLICY_FIELDS},
            )
            messages.success(request, f"The allocation policy of {brand.name} is saved.")
            return HttpResponseRedirect(f"{reverse('allocation-policy')}?brand={brand.pk}")
    elif may_adjust:
        form = BrandPolicyForm(instance=AllocationPolicy(brand=brand), initial=initial)
    history = (
        policy.history.select_related("history_user").order_by("-history_date")[:POLICY_HISTORY_SHOWN]
        if policy.pk
        else []
    )
    return render(
        request,
        "allocation/policy.html",
        {
            "nav": "allocation-policy",
            "brand": brand,
            "brands": brands,
            "policy": policy,
            "words": _policy_words(policy, brand),
            "is_default": policy.pk is None,
            "history": history,
            "form": form,
        },
    )
