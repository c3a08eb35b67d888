"""Return pages: the list (brand users see their own returns), a return's page where the warehouse receives units
by scan, triages each unit and completes the return, and the form that authorises a return against a shipped
order. Every write goes through `returns.services`, which checks the permission before anything else; the views
turn a form into the call and the outcome into a message (a refusal names its reasons; nothing was saved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from inventory.models import Sku
from orders.models import Order
from orders.visible import order_list_visible_to
from returns import services
from returns.models import AUTHORISE, OPERATE, TRIAGE, UNIT_DISPOSITIONS, Grade, Return, ReturnState
from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import DomainError
from warehouse.roles import brands_visible_to, scope_to_brands, sees_all_brands

READ = "returns.view_return"
# The step that completes a triaged return, by its summary disposition, and the words on its button.
STEP_LABELS = {"restock": "Restock", "rework": "Send to rework", "dispose": "Dispose of", "complete": "Complete"}
# Steps a person takes from the return's page besides scanning and triage.
PAGE_STEPS: dict[str, Callable[..., Return]] = {
    "authorize": services.return_authorize,
    "mark_shipped_back": services.return_mark_shipped_back,
    "finish_triage": services.return_triage_finish,
    "restock": services.return_restock,
    "rework": services.return_rework,
    "dispose": services.return_dispose,
    "complete": services.return_complete,
}
STEP_PERMISSION = {"finish_triage": TRIAGE}  # the others: returns.operate_return (authorize also a brand's own)


def _may_read(user: Any) -> bool:
    """Staff who read returns, and brand users (no global permission; scoped to their brands)."""
    return bool(user.has_perm(READ) or (not sees_all_brands(user) and brands_visible_to(user).exists()))


def _visible_returns(user: Any) -> QuerySet[Return]:
    queryset = Return.objects.select_related("brand", "facility", "order").order_by("-created_at", "-id")
    return scope_to_brands(queryset, user)


def _return(request: HttpRequest, pk: int) -> Return:
    """The return if the user may see it; 404 otherwise (another brand's return does not exist for them)."""
    user: Any = request.user
    rma = _visible_returns(user).filter(pk=pk).first() if _may_read(user) else None
    if rma is None:
        raise Http404("No such return.")
    return rma


def _back(rma: Return, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("return-page", args=[rma.pk]) + anchor)


def _run(request: HttpRequest, rma: Return, call: Callable[[], Any], done: str, anchor: str = "") -> HttpResponse:
    """Run one service call; a refusal becomes a message (nothing was saved), a 403 stays a 403."""
    try:
        result = call()
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return _back(rma, anchor)
    rma = getattr(result, "rma", result)
    rma.refresh_from_db()
    messages.success(request, f"{done} Return {rma.rma_number} is now {rma.get_state_display().lower()}.")
    for warning in getattr(result, "warnings", []):
        messages.warning(request, warning.message)
    return _back(rma, anchor)


def _nul_refused(request: HttpRequest) -> bool:
    """A NUL character cannot be stored or looked up in PostgreSQL text: refused with words, never a 500."""
    if any("\x00" in value for values in request.POST.lists() for value in values[1]):
        messages.error(request, "The form held a NUL character: nothing was saved. Type the values again.")
        return True
    return False


def _quantity(raw: str | None, default: int = 1) -> int | str:
    """The typed quantity, or the words of why it is not one."""
    raw = (raw or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return f"Quantity {raw!r} is not a whole number."


@login_required
def return_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_read(user):
        raise PermissionDenied
    filters: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k in {"state", "brand", "rma_number"} and v}
    returns = _visible_returns(user)
    if "brand" in filters:
        returns = returns.filter(brand_id=filters["brand"]) if filters["brand"].isdigit() else returns.none()
    if "state" in filters:
        returns = returns.filter(state=filters["state"])
    if "rma_number" in filters:
        returns = returns.filter(rma_number=filters["rma_number"].strip())
    page = BoundedCountPaginator(returns, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "returns/return_list.html",
        {
            "nav": "returns",
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "brands": brands_visible_to(user),
            "states": ReturnState.choices,
        },
    )


def _line_rows(rma: Return) -> list[dict[str, Any]]:
    decided: dict[int, int] = {}
    for decision in rma.decisions.all():
        decided[decision.line_id] = decided.get(decision.line_id, 0) + decision.quantity
    return [
        {"line": line, "triaged": decided.get(line.pk, 0), "waiting": line.received_quantity - decided.get(line.pk, 0)}
        for line in rma.lines.select_related("sku")
    ]


@login_required
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    rma = _return(request, pk)
    rows = _line_rows(rma)
    state = rma.state
    may_operate = bool(user.has_perm(OPERATE))
    may_triage = bool(user.has_perm(TRIAGE))
    waiting = sum(row["waiting"] for row in rows)
    outstanding = sum(row["line"].outstanding for row in rows)
    steps = {str(k): v for k, v in services.STEP_OF_DISPOSITION.items()}
    finish_step = steps.get(rma.disposition) if state == ReturnState.TRIAGED else None
    return render(
        request,
        "returns/return_detail.html",
        {
            "nav": "returns",
            "rma": rma,
            "rows": rows,
            "decisions": list(rma.decisions.select_related("line__sku", "decided_by")),
            "can_scan": may_operate and state in services.RECEIVABLE,
            "can_authorize": state == ReturnState.INITIATED and _may_authorize(rma, user),
            "can_triage": may_triage and state == ReturnState.RECEIVED and waiting > 0,
            "can_finish_triage": may_triage and state == ReturnState.RECEIVED and waiting == 0 and outstanding > 0
            and any(row["triaged"] for row in rows),
            "finish_step": finish_step if may_operate else None,
            "finish_label": STEP_LABELS.get(finish_step or "", ""),
            "grades": Grade.choices,
            "dispositions": UNIT_DISPOSITIONS,
            "waiting": waiting,
            "outstanding": outstanding,
            "console_url": reverse("admin:returns_return_change", args=[rma.pk]) if user.is_staff else None,
        },
    )  # fmt: skip


def _may_authorize(rma: Return, user: Any) -> bool:
    meta = rma.authorize._django_fsm  # type: ignore[attr-defined]
    return bool(meta.has_transition_perm(rma, rma.state, user))


@login_required
@require_POST
def return_page_scan(request: HttpRequest, pk: int) -> HttpResponse:
    rma = _return(request, pk)
    if not request.user.has_perm(OPERATE):
        raise PermissionDenied
    if _nul_refused(request):
        return _back(rma, "#scan")
    quantity = _quantity(request.POST.get("quantity"))
    if isinstance(quantity, str):
        messages.error(request, quantity)
        return _back(rma, "#scan")
    code = request.POST.get("code", "")
    return _run(
        request,
        rma,
        lambda: services.return_receive_scan(rma=rma, code=code, quantity=quantity, actor=request.user),  # type: ignore[arg-type]
        f"Received {quantity} × {code.strip()} into quarantine.",
        "#scan",
    )


@login_required
@require_POST
def return_page_triage(request: HttpRequest, pk: int) -> HttpResponse:
    rma = _return(request, pk)
    if not request.user.has_perm(TRIAGE):
        raise PermissionDenied
    if _nul_refused(request):
        return _back(rma, "#triage")
    quantity = _quantity(request.POST.get("quantity"))
    line_id = str(request.POST.get("line", ""))
    line = rma.lines.select_related("sku").filter(pk=line_id).first() if line_id.isdigit() else None
    if isinstance(quantity, str) or line is None:
        messages.error(request, quantity if isinstance(quantity, str) else "Choose the SKU whose units you triaged.")
        return _back(rma, "#triage")
    grade, disposition = request.POST.get("grade", ""), request.POST.get("disposition", "")
    actor: Any = request.user
    note = request.POST.get("reason", "")
    return _run(
        request,
        rma,
        lambda: services.return_triage_units(
            rma=rma, line=line, quantity=quantity, grade=grade, disposition=disposition, actor=actor, reason=note
        ),
        f"Triaged {quantity} × {line.sku.code}: grade {grade}, {disposition}.",
        "#triage",
    )


@login_required
@require_POST
def return_page_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    rma = _return(request, pk)
    step = PAGE_STEPS.get(name)
    if step is None:
        raise Http404("No such step.")
    user: Any = request.user
    allowed = _may_authorize(rma, user) if name == "authorize" else user.has_perm(STEP_PERMISSION.get(name, OPERATE))
    if not allowed:
        raise PermissionDenied
    if _nul_refused(request):
        return _back(rma)
    reason = request.POST.get("reason", "")
    label = STEP_LABELS.get(name, name.replace("_", " ").capitalize())
    return _run(request, rma, lambda: step(rma=rma, actor=user, reason=reason), f"{label}: done.")


def _order_for_return(request: HttpRequest, pk: int) -> Order:
    """The order if the user may see it, as on the order page (404 otherwise), then the right to authorise returns
    (403)."""
    user: Any = request.user
    brand_user = not sees_all_brands(user) and brands_visible_to(user).exists()
    reads_orders = user.has_perm("orders.view_order") or brand_user
    order = order_list_visible_to(user=user).filter(pk=pk).first() if reads_orders else None
    if order is None:
        raise Http404("No such order.")
    if not user.has_perm(AUTHORISE):
        raise PermissionDenied
    return order


@login_required
@require_http_methods(["GET", "POST"])
def return_authorise_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Authorise a return against a shipped order (`pk`): one quantity per SKU it shipped (0: not returned)."""
    order = _order_for_return(request, pk)
    shipped = services.shipped_units(order)
    left = services.returnable_units(order)
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=shipped)}
    rows: list[dict[str, Any]] = [
        {"sku": skus[sku_id], "shipped": n, "returnable": max(left.get(sku_id, 0), 0), "value": ""}
        for sku_id, n in sorted(shipped.items(), key=lambda item: skus[item[0]].code)
    ]
    form = {"rma_number": "", "reason": ""}
    if request.method == "POST" and not _nul_refused(request):
        form = {"rma_number": request.POST.get("rma_number", ""), "reason": request.POST.get("reason", "")}
        lines: list[tuple[Sku, int]] = []
        problems: list[str] = []
        # one hidden `sku` (its id) and one `quantity` per row, in the same order
        typed = dict(zip(request.POST.getlist("sku"), request.POST.getlist("quantity"), strict=False))
        for row in rows:
            raw = typed.get(str(row["sku"].pk), "")
            row["value"] = raw
            quantity = _quantity(raw, default=0)
            if isinstance(quantity, str):
                problems.append(f"{row['sku'].code}: {quantity}")
            elif quantity:
                lines.append((row["sku"], quantity))
        if not problems and not lines:
            problems.append("Say how many units of which SKU come back: every quantity is 0.")
        if not problems:
            try:
                rma = services.return_authorize_order(
                    order=order, lines=lines, actor=request.user,  # type: ignore[arg-type]
                    rma_number=form["rma_number"], reason=form["reason"],
                )  # fmt: skip
            except DomainError as exc:
                if exc.http_status == 403:
                    raise PermissionDenied(exc.message) from exc
                problems.append(exc.message)
            else:
                messages.success(request, f"Return {rma.rma_number} authorised for order {order.platform_order_id}.")
                return _back(rma)
        for problem in problems:
            messages.error(request, problem)
    return render(
        request,
        "returns/return_authorise.html",
        {
            "nav": "returns",
            "order": order,
            "rows": rows,
            "form": form,
            "shipped_states": services.SHIPPED,
            "returns": list(order.returns.all()),
        },
    )
