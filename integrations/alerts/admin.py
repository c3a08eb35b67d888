"""The alerts in the console: administrators tune the rules (every change kept in history), set recipients per brand
and rule, and declare maintenance windows; incidents are read here and acted on from their own page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from integrations.alerts.models import AlertRule, Incident, IncidentEntry, MaintenanceWindow, Notification, Recipient
from warehouse.admin import ConsoleAdmin, HistoryAdmin


@admin.register(AlertRule)
class AlertRuleAdmin(HistoryAdmin, ConsoleAdmin):
    brand_field = None
    list_display = ["name", "signal", "comparison", "threshold", "window_minutes", "for_minutes", "severity",
                    "runbook", "enabled"]  # fmt: skip
    list_filter = ["severity", "enabled", "runbook"]
    readonly_fields = ["code", "signal"]
    fields = ["code", "name", "signal", "comparison", "threshold", "window_minutes", "for_minutes",
              "min_observations", "evaluate_every_minutes", "severity", "group", "runbook", "metric_backed",
              "enabled", "brand_words"]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the rules are the seed's; they are tuned, not invented (a signal needs code)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # turned off with `enabled`


@admin.register(Recipient)
class RecipientAdmin(HistoryAdmin, ConsoleAdmin):
    brand_field = None
    list_display = ["__str__", "brand", "rule", "active"]
    list_filter = ["active"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(HistoryAdmin, ConsoleAdmin):
    brand_field = "connection__channel__brand"
    list_display = ["connection", "starts_at", "ends_at", "reason", "created_by"]
    fields = ["connection", "starts_at", "ends_at", "reason"]
    list_select_related = ["connection__channel__brand", "created_by"]

    def save_model(self, request: HttpRequest, obj: MaintenanceWindow, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class IncidentEntryInline(admin.TabularInline):
    model = IncidentEntry
    fields = ["at", "kind", "text", "actor"]
    readonly_fields = ["at", "kind", "text", "actor"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(HistoryAdmin, ConsoleAdmin):
    list_display = ["title", "severity", "opened_at", "closed_at", "acknowledged_at", "page"]
    list_filter = ["severity", "runbook"]
    list_select_related = ["connection__channel__brand", "rule"]
    inlines = [IncidentEntryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened by the alerts only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # acted on from its page, through the services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Page")
    def page(self, obj: Incident) -> str:
        return format_html('<a href="/incidents/{}/">Open</a>', obj.pk)


@admin.register(Notification)
class NotificationAdmin(ConsoleAdmin):
    brand_field = "incident__brand"
    list_display = ["incident", "channel", "target", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state", "channel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
