"""The order's tracking page (`/orders/<pk>/tracking/`): each shipment's carrier events as stored and what applying
them did, the manual entries and their re-check, and, for a manager while a carrier's API is down, the manual
tracking form. Every write goes through `integrations.tracking.services`, which checks the permission first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from integrations.carriers.registry import choices as carrier_choices
from integrations.tracking.models import CarrierEvent, ManualTracking, RecheckOutcome
from integrations.tracking.services import ENTER_MANUAL, manual_tracking_enter, manual_tracking_recheck
from orders.models import Order, OrderState, ShipmentState
from orders.visible import order_list_visible_to
from warehouse.errors import DomainError, NotPermitted
from warehouse.roles import brands_visible_to, sees_all_brands


class ManualTrackingForm(forms.Form):
    carrier = forms.ChoiceField(label="Carrier", choices=())
    tracking_number = forms.CharField(label="Tracking number", max_length=200)
    handed_at = forms.DateTimeField(
        label="Handed to the carrier at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="Local time of the back office",
    )
    note = forms.CharField(label="Note (what happened)", max_length=400, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        carrier = self.fields["carrier"]
        assert isinstance(carrier, forms.ChoiceField)
        carrier.choices = carrier_choices()


def _order(request: HttpRequest, pk: int) -> Order:
    """The order if the user may read orders and see this one (the order page's rule); 404 otherwise."""
    user: Any = request.user
    if not (user.has_perm("orders.view_order") or (not sees_all_brands(user) and brands_visible_to(user).exists())):
        raise Http404("No such order.")
    order = order_list_visible_to(user=user).filter(pk=pk).first()
    if order is None:
        raise Http404("No such order.")
    return order


def _page(request: HttpRequest, order: Order, form: ManualTrackingForm | None = None) -> HttpResponse:
    user: Any = request.user
    shipments = list(order.shipments.select_related("facility").order_by("pk"))
    numbers = [s.tracking_number for s in shipments if s.tracking_number]
    events = CarrierEvent.objects.filter(tracking_number__in=numbers).order_by("occurred_at", "id")
    entries = {m.shipment_id: m for m in ManualTracking.objects.filter(shipment__order=order)}
    rows = [
        {
            "shipment": s,
            "events": [e for e in events if e.tracking_number == s.tracking_number],
            "manual": entries.get(s.pk),
        }
        for s in shipments
    ]
    may_enter = user.has_perm(ENTER_MANUAL) and user.has_perm("orders.operate_shipment")
    open_for_entry = order.state == OrderState.PACKED or any(s.state == ShipmentState.STAGED for s in shipments)
    if form is None and may_enter and open_for_entry:
        form = ManualTrackingForm(initial={"handed_at": timezone.localtime().replace(second=0, microsecond=0)})
    pending = [m for m in entries.values() if m.outcome == RecheckOutcome.PENDING]
    return render(
        request,
        "tracking/order_tracking.html",
        {
            "nav": "orders",
            "order": order,
            "rows": rows,
            "form": form if may_enter and open_for_entry else None,
            "can_recheck": may_enter and bool(pending),
        },
    )


@login_required
@require_http_methods(["GET"])
def order_tracking_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _order(request, pk))


@login_required
@require_POST
def order_tracking_manual(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    user: Any = request.user
    if not (user.has_perm(ENTER_MANUAL) and user.has_perm("orders.operate_shipment")):
        raise PermissionDenied
    form = ManualTrackingForm(request.POST)
    if not form.is_valid():
        return _page(request, order, form)
    handed_at: dt.datetime = form.cleaned_data["handed_at"]
    try:
        entry = manual_tracking_enter(
            order=order,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
            handed_at=handed_at,
            note=form.cleaned_data["note"],
            actor=user,
        )
    except NotPermitted:
        raise PermissionDenied from None
    except DomainError as exc:
        for reason in exc.reasons or []:
            form.add_error(None, reason.message)
        if not exc.reasons:
            form.add_error(None, exc.message)
        return _page(request, order, form)
    messages.success(
        request,
        f"Handed to the carrier with tracking {entry.tracking_number} (entered manually): the customer is told, and "
        "the entry is re-checked against the carrier's tracking once its API answers.",
    )
    return HttpResponseRedirect(reverse("order-tracking", args=[order.pk]))


@login_required
@require_POST
def order_tracking_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    user: Any = request.user
    if not user.has_perm(ENTER_MANUAL):
        raise PermissionDenied
    words = {
        RecheckOutcome.MATCHED: "the carrier's tracking agrees; the review is closed",
        RecheckOutcome.DIFFERS: "the carrier's tracking differs; the review says how",
        RecheckOutcome.PENDING: "the carrier's API did not answer; it is asked again every five minutes",
    }
    for entry in ManualTracking.objects.filter(shipment__order=order, outcome=RecheckOutcome.PENDING):
        outcome = manual_tracking_recheck(entry=entry)
        level = messages.SUCCESS if outcome == RecheckOutcome.MATCHED else messages.WARNING
        messages.add_message(request, level, f"Tracking {entry.tracking_number}: {words[RecheckOutcome(outcome)]}.")
    return HttpResponseRedirect(reverse("order-tracking", args=[order.pk]))
