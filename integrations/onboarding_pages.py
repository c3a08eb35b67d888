"""The onboarding checklist's pages: every brand's progress (`onboarding`), one brand's checklist
(`onboarding-checklist`), and a person's word on it: a tick or its taking back with a note (`onboarding-tick`), the
go-live date (`onboarding-go-live`). A brand the reader does not see is "not found" before anything else; the
permission is checked next, before any write. A refused input shows one error, keeps what was typed, saves nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.onboarding import (
    NOTE_MAX,
    TICK_PERMISSION,
    OnboardingStep,
    onboarding_checklist,
    onboarding_history,
    onboarding_set_go_live,
    onboarding_tick,
    onboarding_untick,
)
from warehouse.errors import DomainError
from warehouse.models import Brand
from warehouse.roles import brands_visible_to

PAGE_SIZE = 20


def _brand(request: HttpRequest, pk: int) -> Brand:
    """The brand if the reader sees it; "not found" otherwise (another brand's checklist is not even confirmed)."""
    return get_object_or_404(brands_visible_to(request.user), pk=pk)  # type: ignore[arg-type]


@login_required
@require_GET
def onboarding_list_page(request: HttpRequest) -> HttpResponse:
    brands = brands_visible_to(request.user).order_by("name")  # type: ignore[arg-type]
    page = Paginator(brands, PAGE_SIZE).get_page(request.GET.get("page"))
    checklists = [onboarding_checklist(brand=brand) for brand in page.object_list]
    return render(request, "integrations/onboarding_list.html", {"nav": "onboarding", "page": page,
                                                                   "checklists": checklists})  # fmt: skip


def _render(
    request: HttpRequest, brand: Brand, *, error: str = "", typed: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    return render(
        request,
        "integrations/onboarding.html",
        {
            "nav": "onboarding",
            "brand": brand,
            "checklist": onboarding_checklist(brand=brand),
            "history": onboarding_history(brand=brand),
            "may_tick": user.has_perm(TICK_PERMISSION),
            "error": error,
            "typed": typed or {},
            # the error shows beside the form it came from (at the top for a step that is no item)
            "error_step": (typed or {}).get("step", "") if (typed or {}).get("step") in OnboardingStep.values else "",
            "note_max": NOTE_MAX,
            "connections_url": _connections_url(user, brand),
        },
        status=status,
    )


def _connections_url(user: Any, brand: Brand) -> str:
    if not user.has_perm("integrations.view_connection"):
        return ""
    return reverse("admin:integrations_connection_changelist") + f"?channel__brand__id__exact={brand.pk}"


@login_required
@require_GET
def onboarding_checklist_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _brand(request, pk))


def _refused(request: HttpRequest, brand: Brand, exc: DomainError, typed: dict[str, str]) -> HttpResponse:
    return _render(request, brand, error=exc.message, typed=typed, status=400)


@login_required
@require_POST
def onboarding_tick_page(request: HttpRequest, pk: int) -> HttpResponse:
    brand = _brand(request, pk)
    if not request.user.has_perm(TICK_PERMISSION):
        raise PermissionDenied
    step, note = request.POST.get("step", ""), request.POST.get("note", "")
    untick = request.POST.get("action") == "untick"
    service = onboarding_untick if untick else onboarding_tick
    typed = {"step": step, "note": note, "action": "untick" if untick else "tick"}
    try:
        item = service(brand=brand, step=step, note=note, actor=request.user)
    except DomainError as exc:
        return _refused(request, brand, exc, typed)
    verb = "taken back" if untick else "ticked"
    messages.success(request, f"“{OnboardingStep(item.step).label}” {verb} for {brand.name}.")
    return HttpResponseRedirect(reverse("onboarding-checklist", args=[brand.pk]) + f"#item-{item.step}")


@login_required
@require_POST
def onboarding_go_live_page(request: HttpRequest, pk: int) -> HttpResponse:
    brand = _brand(request, pk)
    if not request.user.has_perm(TICK_PERMISSION):
        raise PermissionDenied
    on, note = request.POST.get("go_live_on", ""), request.POST.get("note", "")
    typed = {"step": OnboardingStep.GO_LIVE.value, "go_live_on": on, "note": note}
    try:
        item = onboarding_set_go_live(brand=brand, on=on, note=note, actor=request.user)
    except DomainError as exc:
        return _refused(request, brand, exc, typed)
    messages.success(request, f"{brand.name} goes live on {item.go_live_on:%d %b %Y}.")
    return HttpResponseRedirect(reverse("onboarding-checklist", args=[brand.pk]) + "#item-go_live")
