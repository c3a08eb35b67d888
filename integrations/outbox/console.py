"""Console pages of the outbound queue: every message is read-only evidence; a dead letter offers two buttons,
replay (same idempotency key) and discard (with a reason), both through `integrations.outbox.services`.

Not registered by autodiscovery yet: the permission matrix (tests/permissions/policy.py `ADMIN_VIEWERS`) and the
roles must list these models first. `register_console()` registers them (wired from `OutboxConfig.ready` once the
policy rows exist)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from integrations.outbox.models import ConnectionCircuit, OutboundMessage
from integrations.outbox.services import deadletter_discard, deadletter_replay
from warehouse.admin import ConsoleAdmin, TransitionAdmin
from warehouse.transitions import Actor


def _replay(*, obj: OutboundMessage, actor: Actor, reason: str = "", force: bool = False) -> OutboundMessage:
    return deadletter_replay(message=obj, actor=actor)


def _discard(*, obj: OutboundMessage, actor: Actor, reason: str = "", force: bool = False) -> OutboundMessage:
    return deadletter_discard(message=obj, actor=actor, reason=reason)


class OutboundMessageAdmin(TransitionAdmin):
    brand_field = "connection__channel__brand"
    list_display = ["id", "connection", "platform", "kind", "state", "attempts", "next_attempt_at", "last_status"]
    list_filter = ["platform", "state", "kind", ("archived_at", admin.EmptyFieldListFilter)]
    list_select_related = ["connection__channel"]
    search_fields = ["idempotency_key", "source"]
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    transition_services = {"replay": _replay, "discard": _discard}
    offer_without_service = False  # the worker's transitions are not buttons

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConnectionCircuitAdmin(ConsoleAdmin):
    brand_field = "connection__channel__brand"
    list_display = ["connection", "consecutive_failures", "open_until", "last_error", "updated_at"]
    readonly_fields = ["connection", "consecutive_failures", "open_until", "last_error", "updated_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def register_console(site: admin.AdminSite = admin.site) -> None:
    site.register(OutboundMessage, OutboundMessageAdmin)
    site.register(ConnectionCircuit, ConnectionCircuitAdmin)
