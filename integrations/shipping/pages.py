"""Shipping in the browser: the shipping desk (packed orders waiting, labels waiting for the day's manifest, manifests
waiting for the carrier's pickup), one order's shipping page (the rules' service, buy labels, view the PDF, download
the ZPL, void), and the rules' dry run. Reading needs `orders.view_shipment`; every write goes through
`integrations.shipping.services`, which checks `orders.operate_shipment` before anything else."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.carriers.labels import LabelTampered
from integrations.carriers.models import CarrierAccount
from integrations.carriers.protocol import LABEL_MEDIA_TYPES, LABEL_SUFFIXES, PDF
from integrations.carriers.registry import connectors
from integrations.shipping import services
from integrations.shipping.customs import customs_missing
from integrations.shipping.legs import leg_waiting_parcels, shipping_legs
from integrations.shipping.models import Label, LabelFile, Manifest
from integrations.shipping.rules import rules_dry_run, service_choose
from orders.models import Order, OrderState, Parcel
from orders.selectors import order_list_visible_to
from warehouse.errors import DomainError

VIEW_SHIPMENT = "orders.view_shipment"


def _reader(request: HttpRequest) -> Any:
    user: Any = request.user
    if not user.has_perm(VIEW_SHIPMENT):
        raise PermissionDenied
    return user


def _order(user: Any, pk: int) -> Order:
    order = order_list_visible_to(user=user).filter(pk=pk).select_related("facility", "brand").first()
    if order is None:
        raise Http404("No such order.")
    return order


def _label(user: Any, pk: int) -> Label:
    label = Label.objects.filter(pk=pk, shipment__order__in=order_list_visible_to(user=user)).first()
    if label is None:
        raise Http404("No such label.")
    return label


def _outcome(request: HttpRequest, exc: DomainError) -> None:
    if exc.http_status == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)


@login_required
def shipping_desk(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    visible = order_list_visible_to(user=user)
    packed = list(
        visible.filter(Q(state=OrderState.PACKED) | Q(state=OrderState.FLOOR_HOLD, held_from=OrderState.PACKED))
        .annotate(waiting=Count("parcels", filter=Q(parcels__shipment__isnull=True)))
        .select_related("brand", "facility")
        .order_by("ship_by", "id")[:200]
    )
    waiting = (
        Label.objects.filter(voided_at__isnull=True, manifest__isnull=True, shipment__state="staged")
        .values("account")
        .annotate(n=Count("id"))
    )
    counts = {row["account"]: row["n"] for row in waiting}
    accounts = list(CarrierAccount.objects.filter(pk__in=counts).select_related("facility"))
    manifests = list(
        Manifest.objects.filter(
            closed_at__isnull=False, labels__voided_at__isnull=True, labels__picked_up_at__isnull=True
        )
        .distinct()
        .select_related("account", "facility")
        .annotate(n=Count("labels"))[:50]
    )
    return render(
        request,
        "shipping/desk.html",
        {
            "nav": "shipping",
            "packed": packed,
            "accounts": [(a, counts[a.pk]) for a in accounts],
            "manifests": manifests,
            "may_operate": user.has_perm(services.OPERATE_SHIPMENT),
        },
    )


@login_required
def shipping_order_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _order(user, pk)
    parcels = list(Parcel.objects.filter(order=order).select_related("facility").order_by("number"))
    legs: list[dict[str, Any]] = []
    for leg in shipping_legs(order):
        unlabelled = leg_waiting_parcels(order, leg)
        legs.append(
            {
                "leg": leg,
                "suffix": f"-{leg.facility.code}" if leg.split else "",
                "unlabelled": unlabelled,
                "choice": unlabelled and service_choose(order=order, parcels=unlabelled, facility=leg.facility),
                "missing_customs": customs_missing(order, leg) if unlabelled else [],
            }
        )
    labels = list(
        Label.objects.filter(shipment__order=order).select_related("shipment", "manifest").prefetch_related("files")
    )
    services_on_offer = [
        (f"{c.code}:{code}", f"{c.name} · {name}") for c in connectors().values() for code, name in c.services.items()
    ]
    return render(
        request,
        "shipping/order.html",
        {
            "nav": "shipping",
            "order": order,
            "parcels": parcels,
            "legs": legs,
            "split": any(x["leg"].split for x in legs),
            "labels": labels,
            "services_on_offer": services_on_offer,
            "may_operate": user.has_perm(services.OPERATE_SHIPMENT),
            # held for shipping's own reasons: buying again re-checks them and, once they pass, resumes it to packed
            "shippable": order.state == OrderState.PACKED or services.held_for_shipping(order),
        },
    )


@login_required
@require_POST
def shipping_order_ship(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _order(user, pk)
    override = request.POST.get("override", "").strip()
    carrier, _, service = override.partition(":")
    weights = {
        int(key.removeprefix("weight:")): value
        for key in request.POST
        if key.startswith("weight:")
        and key.removeprefix("weight:").isdigit()
        and (value := request.POST.get(key, "").strip())
    }
    try:
        shipped = services.order_ship(
            order=order,
            actor=user,
            carrier=carrier,
            service=service,
            override_reason=request.POST.get("override_reason", ""),
            weights=weights,
            facility=request.POST.get("facility", "").strip() or None,
        )
    except DomainError as exc:
        _outcome(request, exc)
    else:
        numbers = ", ".join(label.tracking_number for label in shipped.labels)
        messages.success(request, f"Labels bought: {shipped.shipment.carrier} {shipped.shipment.service}, {numbers}.")
    return HttpResponseRedirect(reverse("shipping-page-order", args=[order.pk]))


@login_required
@require_GET
def shipping_label_file(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    """The label's document: a PDF opens in the browser, a ZPL (for the thermal printer) downloads."""
    user = _reader(request)
    label = _label(user, pk)
    document = LabelFile.objects.filter(label=label, format=format.upper()).first()
    if document is None:
        raise Http404("No such document for this label.")
    with default_storage.open(document.path, "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise LabelTampered(f"label file {document.pk} does not match its SHA-256")
    name = f"label-{label.tracking_number}.{LABEL_SUFFIXES.get(document.format, 'bin')}"
    response = HttpResponse(content, content_type=LABEL_MEDIA_TYPES.get(document.format, "application/octet-stream"))
    disposition = "inline" if document.format == PDF else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def shipping_label_void(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    label = _label(user, pk)
    try:
        services.label_void(label=label, actor=user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        _outcome(request, exc)
    else:
        messages.success(request, f"Label {label.tracking_number} voided at the carrier.")
    return HttpResponseRedirect(reverse("shipping-page-order", args=[label.shipment.order_id]))


@login_required
@require_POST
def shipping_label_handoff(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    label = _label(user, pk)
    try:
        done = services.handoff_record(actor=user, labels=[label])
    except DomainError as exc:
        _outcome(request, exc)
    else:
        messages.success(request, _handoff_words(done))
    return HttpResponseRedirect(reverse("shipping-page-order", args=[label.shipment.order_id]))


@login_required
@require_POST
def shipping_manifest_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    account = CarrierAccount.objects.filter(pk=pk).first()
    if account is None:
        raise Http404("No such carrier account.")
    try:
        manifest = services.manifest_close(account=account, actor=user)
    except DomainError as exc:
        _outcome(request, exc)
    else:
        messages.success(request, f"Manifest closed: {manifest.labels.count()} label(s) of {account}.")
    return HttpResponseRedirect(reverse("shipping"))


@login_required
@require_POST
def shipping_manifest_handoff(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    manifest = Manifest.objects.filter(pk=pk).first()
    if manifest is None:
        raise Http404("No such manifest.")
    try:
        done = services.handoff_record(actor=user, manifest=manifest)
    except DomainError as exc:
        _outcome(request, exc)
    else:
        messages.success(request, _handoff_words(done))
    return HttpResponseRedirect(reverse("shipping"))


def _handoff_words(done: services.HandOff) -> str:
    words = f"The carrier confirmed {len(done.confirmed)} parcel(s); {len(done.shipments)} shipment(s) handed over."
    if done.waiting:
        words += " Still waiting for the carrier's scan: " + ", ".join(x.tracking_number for x in done.waiting) + "."
    return words


@login_required
def shipping_rules_dry_run(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm("shipping.view_shippingrule"):
        raise PermissionDenied
    rows = rules_dry_run(limit=100)
    return render(
        request,
        "shipping/dry_run.html",
        {"nav": "shipping", "rows": rows, "changed": sum(1 for r in rows if r.changed)},
    )
