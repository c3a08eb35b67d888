"""Console pages of the allocation policy and the cutoffs (issue 6 §1, §3). Both are configuration: administrators
edit them, staff roles read them (warehouse/roles.py). Every edit asks why and is saved through the allocation
services, so the history row names the editor and the reason; the "History" link shows every version."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest

from orders.allocation.forms import REASON_FIELD, AllocationPolicyForm, CutoffForm
from orders.allocation.models import AllocationPolicy, Cutoff
from orders.allocation.services import POLICY_FIELDS, allocation_policy_update, cutoff_set
from warehouse.admin import ConsoleAdmin, HistoryAdmin
from warehouse.roles import brands_visible_to


class _EditedWithReason(ConsoleAdmin, HistoryAdmin):
    """The "why" field only where the user may save; the identity fields fixed once the row exists (the services
    key a row by them); never deleted (a contract is changed, with a reason, not erased)."""

    identity: list[str] = ["brand"]
    shown_once_set: list[str] = []  # read-only context beside the identity on an existing row

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [f for f in super().get_fields(request, obj) if f != REASON_FIELD]
        lead = [f for f in self.identity if f in fields] + [f for f in self.shown_once_set if f in fields]
        fields = lead + [f for f in fields if f not in lead]
        may_save = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        return [*fields, REASON_FIELD] if may_save else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.identity, *self.shown_once_set] if obj is not None else []

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> ModelChoiceField:
        if db_field.name == "brand":
            kwargs["queryset"] = brands_visible_to(request.user)  # type: ignore[arg-type]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[return-value]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AllocationPolicy)
class AllocationPolicyAdmin(_EditedWithReason):
    form = AllocationPolicyForm
    shown_once_set = ["updated_at"]
    list_display = ["brand", "class_order", "split_allowed", "split_fee", "updated_at"]
    list_select_related = ["brand"]
    search_fields = ["brand__name"]
    ordering = ["brand__name"]

    def save_model(self, request: HttpRequest, obj: AllocationPolicy, form: Any, change: bool) -> None:
        saved = allocation_policy_update(
            brand=obj.brand,
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data[REASON_FIELD],
            **{name: getattr(obj, name) for name in POLICY_FIELDS},
        )
        obj.pk = saved.pk


@admin.register(Cutoff)
class CutoffAdmin(_EditedWithReason):
    form = CutoffForm
    identity = ["brand", "platform", "facility"]
    shown_once_set = ["time_zone"]
    list_display = ["brand", "channel", "facility", "cutoff_time", "time_zone", "handling_days", "hard_deadline"]
    list_filter = ["platform", "hard_deadline"]  # plain columns: no join, no DISTINCT
    list_select_related = ["brand", "facility"]
    search_fields = ["brand__name", "facility__code"]
    ordering = ["brand__name", "facility__code", "platform"]

    @admin.display(description="Channel", ordering="platform")
    def channel(self, obj: Cutoff) -> str:
        return obj.platform or "default"

    @admin.display(description="Facility time zone")
    def time_zone(self, obj: Cutoff) -> str:
        return obj.facility.time_zone

    def save_model(self, request: HttpRequest, obj: Cutoff, form: Any, change: bool) -> None:
        saved = cutoff_set(
            brand=obj.brand,
            facility=obj.facility,
            platform=obj.platform,
            cutoff_time=obj.cutoff_time,
            handling_days=obj.handling_days,
            hard_deadline=obj.hard_deadline,
            ship_weekdays=list(obj.ship_weekdays or []),
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data[REASON_FIELD],
        )
        obj.pk = saved.pk
