"""Console pages of returns: one button per step the user may take (through `returns.services`), a triage form
for managers, and each return's history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from returns import services
from returns.models import Return, ReturnDecision, ReturnLine
from warehouse.admin import TransitionAdmin
from warehouse.errors import DomainError


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    raw_id_fields = ["sku"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReturnDecisionInline(admin.TabularInline):
    """Each unit's triage decision, read-only: decisions are recorded on the return's page or by the API."""

    model = ReturnDecision
    extra = 0
    fields = ["line", "quantity", "grade", "disposition", "reason", "decided_by", "decided_at", "carried_out_at"]
    readonly_fields = [
        "line",
        "quantity",
        "grade",
        "disposition",
        "reason",
        "decided_by",
        "decided_at",
        "carried_out_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _step(fn: Any) -> Any:
    return lambda *, obj, actor, reason: fn(rma=obj, actor=actor, reason=reason)


@admin.register(Return)
class ReturnAdmin(TransitionAdmin):
    list_display = ["rma_number", "brand", "state", "facility", "grade", "disposition", "received_at", "created_at"]
    list_filter = ["state", "disposition"]
    list_select_related = ["brand", "facility"]
    search_fields = ["=rma_number"]
    readonly_fields = [
        "brand",
        "rma_number",
        "state",
        "grade",
        "disposition",
        "received_at",
        "triaged_at",
        "triaged_by",
        "facility",
        "reason",
        "notes",
        "created_at",
    ]
    inlines = [ReturnLineInline, ReturnDecisionInline]
    change_form_template = "admin/returns/return_change_form.html"
    transition_services = {
        "authorize": _step(services.return_authorize),
        "mark_shipped_back": _step(services.return_mark_shipped_back),
        "receive": _step(services.return_receive),
        "restock": _step(services.return_restock),
        "rework": _step(services.return_rework),
        "dispose": _step(services.return_dispose),
        "complete": _step(services.return_complete),
    }

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # returns arrive from the returns system or the API (return_initiate)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if name != "triage" or request.method != "POST":
            return super().transition_view(request, object_id, name)
        rma = self._object_or_404(request, object_id)
        if not request.user.has_perm("returns.triage_return"):
            raise PermissionDenied
        try:
            services.return_triage(
                rma=rma,
                grade=request.POST.get("grade", ""),
                disposition=request.POST.get("disposition", ""),
                actor=request.user,  # type: ignore[arg-type]
                reason=request.POST.get("reason", ""),
            )
        except DomainError as exc:
            if exc.http_status == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Return {rma.rma_number} triaged.")
        return self._back(rma)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        from returns.models import Disposition, Grade

        extra = {**(extra_context or {}), "grades": Grade.choices, "dispositions": Disposition.choices}
        extra["triage_url"] = reverse("admin:returns_return_transition", args=[object_id, "triage"])
        return super().change_view(request, object_id, form_url, extra)
