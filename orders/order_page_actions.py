"""What a person does on the order page besides reading it: fix a held order to the end (a line's SKU code, with
alias candidates and an alias created on the spot, its quantity, one line cancelled with a reason, a re-check), decide
a platform update that conflicts with a fix, and take the order's next step or force a validation, under the same
guards and permissions as the console's buttons (`warehouse.transitions.transitions_available`).

Every write goes through a service that checks the permission before anything else; the views only turn a form into
the call and the outcome into a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from inventory.models import ALIAS_WINDOW, Sku
from inventory.selectors import sku_candidates
from inventory.services import sku_alias_create
from orders import services
from orders.models import EDITABLE_STATES, Order, OrderState, order_lines
from orders.transition_services import transition_service
from orders.validation import line_reasons
from orders.views import _may_read_orders, _visible_order
from warehouse.errors import DomainError
from warehouse.transitions import transition_label, transition_names, transitions_available

CHANGE_ORDER = "orders.change_order"
ADD_ALIAS = "inventory.add_skualias"
FORCE_ORDER = "orders.force_order_transition"
SKU_REASONS = {"sku_missing", "unknown_sku", "alias_expired"}


class LineFixForm(forms.Form):
    sku_code = forms.CharField(max_length=100, label="SKU code")
    quantity = forms.CharField(max_length=12, label="Quantity")


class LineCancelForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why is this line cancelled?")


class AliasForm(forms.Form):
    """An unknown code becomes an alias of one of the brand's SKUs for a window (default: today and 30 days)."""

    code = forms.CharField(max_length=100, label="Code as received")
    sku = forms.CharField(max_length=100, required=False, label="Means SKU")
    other_sku = forms.CharField(max_length=100, required=False, label="Or another SKU code")
    valid_from = forms.DateField(label="Valid from", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    valid_through = forms.DateField(
        label="Valid through", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = (data.get("other_sku") or "").strip() or (data.get("sku") or "").strip()
        if not target:
            raise forms.ValidationError("Choose the SKU this code means.")
        data["target"] = target
        start, end = data.get("valid_from"), data.get("valid_through")
        if start and end and end < start:
            raise forms.ValidationError("The window must end on or after its first day.")
        return data


class ForceForm(forms.Form):
    name = forms.ChoiceField(choices=[(n, transition_label(n)) for n in services.FORCEABLE])
    reason = forms.CharField(max_length=300, label="Reason, recorded with your name")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


# --- what the page shows ------------------------------------------------------------------------------------------


def _offered(name: str) -> bool:
    return transition_service("order", name) is not None


def order_actions(order: Order, user: Any) -> list[Any]:
    """The order's next steps the user may take now: the console's rule (same guards, same permissions) with the
    orders app's own services."""
    return transitions_available(order, user, offered=_offered)


def _line_rows(order: Order, *, can_fix: bool, can_alias: bool) -> list[dict[str, Any]]:
    active = {line.pk for line in order_lines(order)}
    rows = []
    for line in order.lines.all():
        row: dict[str, Any] = {"line": line, "cancelled": line.pk not in active, "problems": [], "candidates": []}
        if can_fix and not row["cancelled"]:
            problems = line_reasons(order=order, line=line)  # in memory only: the page never writes on a GET
            row["problems"] = [r.message for r in problems]
            row["form"] = LineFixForm(
                initial={"sku_code": line.sku_code, "quantity": line.quantity or line.quantity_received},
                auto_id=f"id_line{line.line_number}_%s",
            )
            if len(active) > 1:  # the last line is never cancelled: the order is
                row["cancel_form"] = LineCancelForm(auto_id=f"id_cancel{line.line_number}_%s")
            if any(r.code in SKU_REASONS for r in problems) and line.sku_code.strip():
                row["candidates"] = sku_candidates(brand=order.brand, code=line.sku_code)
                if can_alias:
                    today = timezone.localdate()
                    row["alias_form"] = AliasForm(
                        initial={"code": line.sku_code, "valid_from": today, "valid_through": today + ALIAS_WINDOW},
                        auto_id=f"id_alias{line.line_number}_%s",
                    )
        rows.append(row)
    return rows


def _conflicts(order: Order) -> list[dict[str, Any]]:
    found = []
    for name, theirs in (order.platform_conflicts or {}).items():
        if name == "lines":
            ours = ", ".join(f"{x.quantity_received} × {x.sku_code}" for x in order_lines(order))
            theirs = ", ".join(f"{entry[1]} × {entry[0]}" for entry in theirs)
        else:
            ours = getattr(order, name, "")
        found.append({"field": name, "label": services.FIELD_WORDS.get(name, name), "ours": ours, "theirs": theirs})
    return found


def order_page_context(order: Order, user: Any) -> dict[str, Any]:
    """What the order page offers this user now, beside what it shows everybody."""
    editable = order.state in EDITABLE_STATES
    can_fix = user.has_perm(CHANGE_ORDER) and editable
    can_force = user.has_perm(FORCE_ORDER) and "validate" in transition_names(order)
    return {
        "line_rows": _line_rows(order, can_fix=can_fix, can_alias=can_fix and user.has_perm(ADD_ALIAS)),
        "can_recheck": can_fix and order.state in (OrderState.RECEIVED, OrderState.ON_HOLD),
        "actions": order_actions(order, user),
        "force_form": ForceForm(initial={"name": "validate"}) if can_force else None,
        "conflicts": _conflicts(order) if user.has_perm(CHANGE_ORDER) else [],
        "can_take_platform": editable,
    }


# --- the POSTs ----------------------------------------------------------------------------------------------------


def _order(request: HttpRequest, pk: int, perm: str | None) -> Order:
    """The order if the user may see it (404 otherwise, as on the page), then the permission the write needs (403)
    before anything else runs."""
    user: Any = request.user
    if not _may_read_orders(user):
        raise Http404("No such order.")
    order = _visible_order(user, pk)
    if perm is not None and not user.has_perm(perm):
        raise PermissionDenied
    return order


def _actor(request: HttpRequest) -> Any:
    return request.user  # signed in (login_required): a User


def _back(order: Order, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("order-page", args=[order.pk]) + anchor)


def _run(request: HttpRequest, order: Order, call: Callable[[], Any], done: str, anchor: str = "") -> HttpResponse:
    """Run one service call; its refusal becomes a message (nothing was saved), a 403 stays a 403."""
    try:
        result = call()
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return _back(order, anchor)
    if isinstance(result, Order):
        order = result
        done = f"{done} The order is now {order.get_state_display().lower()}."
    messages.success(request, done)
    return _back(order, anchor)


def _form_errors(request: HttpRequest, order: Order, form: forms.Form, anchor: str = "") -> HttpResponse:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))
    return _back(order, anchor)


@login_required
@require_POST
def order_page_line(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    order = _order(request, pk, CHANGE_ORDER)
    form = LineFixForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, order, form, "#lines")
    return _run(
        request,
        order,
        lambda: services.order_line_edit(
            order=order,
            line_number=number,
            actor=_actor(request),
            sku_code=form.cleaned_data["sku_code"],
            quantity=form.cleaned_data["quantity"].strip(),
        ),
        f"Line {number} saved and the order re-checked.",
        "#lines",
    )


@login_required
@require_POST
def order_page_line_cancel(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    order = _order(request, pk, CHANGE_ORDER)
    form = LineCancelForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, order, form, "#lines")
    return _run(
        request,
        order,
        lambda: services.order_line_cancel(
            order=order,
            line_number=number,
            actor=_actor(request),
            reason=form.cleaned_data["reason"],
        ),
        f"Line {number} cancelled.",
        "#lines",
    )


@login_required
@require_POST
def order_page_alias(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, ADD_ALIAS)
    form = AliasForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, order, form, "#lines")
    data = form.cleaned_data
    sku = Sku.objects.filter(brand=order.brand, code=data["target"]).first()
    if sku is None:
        messages.error(request, f"SKU {data['target']} is not in {order.brand.name}'s catalog.")
        return _back(order, "#lines")
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(data["valid_from"], dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(data["valid_through"] + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    code = data["code"].strip()
    return _run(
        request,
        order,
        lambda: sku_alias_create(
            brand=order.brand,
            code=code,
            sku=sku,
            actor=_actor(request),
            valid_from=start,
            valid_until=end,
            reason=f"from order {order.platform_order_id or order.pk}",
        ),
        f"Alias created: {code} means {sku.code} from {data['valid_from']} through {data['valid_through']}. "
        "Save the line or re-check the order to apply it.",
        "#lines",
    )


@login_required
@require_POST
def order_page_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, CHANGE_ORDER)
    return _run(
        request,
        order,
        lambda: services.order_recheck(order=order, actor=_actor(request)),
        "Order re-checked.",
    )


@login_required
@require_POST
def order_page_conflict(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    order = _order(request, pk, CHANGE_ORDER)
    decision = request.POST.get("decision", "")
    return _run(
        request,
        order,
        lambda: services.order_conflict_decide(
            order=order,
            field=field,
            decision=decision,
            actor=_actor(request),
        ),
        "Decision recorded.",
        "#conflicts",
    )


@login_required
@require_POST
def order_page_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    order = _order(request, pk, None)
    service = transition_service("order", name)
    if service is None:
        raise Http404("No such step.")
    # The console's rule: a step the user may not take is refused before the service runs.
    if name in transition_names(order) and name not in {a.name for a in order_actions(order, request.user)}:
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, order, form)
    return _run(
        request,
        order,
        lambda: service(obj=order, actor=_actor(request), reason=form.cleaned_data["reason"].strip()),
        f"{transition_label(name)}: done.",
    )


@login_required
@require_POST
def order_page_force(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, FORCE_ORDER)
    form = ForceForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, order, form, "#actions")
    name = form.cleaned_data["name"]
    return _run(
        request,
        order,
        lambda: services.order_force(
            order=order,
            name=name,
            actor=_actor(request),
            reason=form.cleaned_data["reason"].strip(),
        ),
        f"Forced {transition_label(name).lower()}, reason recorded.",
        "#actions",
    )
