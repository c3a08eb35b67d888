"""Console pages of the connections: administrators edit mappings and set credentials, which are write-only (the
form never shows a stored secret, only its fingerprint), through `integrations.services`. The inbox, the audit log
and reconciler runs are read-only evidence."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, OuterRef, QuerySet, Subquery, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.functional import lazy

from integrations import services
from integrations.connection_status import connection_health
from integrations.connections import api_host_problem
from integrations.delivery_lifecycle import RERUN_PERMISSION, deliveries_rerun
from integrations.models import (
    RERUNNABLE,
    AuditRecord,
    Connection,
    ExternalId,
    ExternalIdKind,
    InboundDelivery,
    ReconcileRun,
    shop_taken_problem,
)
from integrations.platforms import registry
from integrations.webhook_subscriptions import webhook_url, webhooks_register
from inventory.models import Sku
from warehouse.admin import ConsoleAdmin
from warehouse.durations import duration_words
from warehouse.errors import DomainError
from warehouse.history import save_with_history
from warehouse.models import Brand, Facility, SalesChannel

SECRETS_PERMISSION = "integrations.manage_connection_secrets"


def _credential_shapes() -> str:
    shapes = []
    for code in registry.codes():
        connector = registry.connector_for(code)
        names = ", ".join(f'"{field.name}"' for field in connector.credential_fields)
        shapes.append(f"{connector.name}: {{{names}}}")
    return "; ".join(shapes)


class ConnectionForm(forms.ModelForm):
    """The channel's identity (brand, platform, name: a `warehouse.SalesChannel` made with the connection), plain
    fields, and write-only secrets: blank means "keep the stored one". The platform is one the registry offers (the
    model refuses any other on save, too). Brand and platform are fixed once the connection exists: its orders are
    keyed by the channel."""

    brand = forms.ModelChoiceField(queryset=Brand.objects.order_by("name"))
    platform = forms.ChoiceField(choices=lambda: [("", "---------"), *registry.choices()])
    name = forms.CharField(max_length=SalesChannel._meta.get_field("name").max_length)
    new_credentials = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60}),
        help_text=lazy(
            lambda: (
                f"A JSON object of the platform's credentials ({_credential_shapes()}). Leave blank to keep the "
                "stored credentials."
            ),
            str,
        )(),
    )
    new_signing_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60}),
        help_text="Leave blank to keep the stored secret. The previous one stays valid for the rotation window.",
    )

    class Meta:
        model = Connection
        fields = [
            "shop",
            "api_base_url",
            "scopes",
            "reconcile_every_minutes",
            "fallback_reconcile_every_minutes",
            "reconcile_overlap_minutes",
            "silent_after_minutes",
            "field_mapping",
            "status_mapping",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            channel = self.instance.channel
            self.initial.update(brand=channel.brand_id, platform=channel.platform_code, name=channel.name)
            self.fields["platform"] = forms.ChoiceField(choices=[(channel.platform_code, self.instance.platform_name)])
            for fixed in ("brand", "platform"):
                self.fields[fixed].disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        brand, platform, name, shop = (cleaned.get(k) for k in ("brand", "platform", "name", "shop"))
        if self.instance.pk is None and platform and shop:  # an existing connection's own clean() checks its shop
            problem = shop_taken_problem(platform=platform, shop=shop)
            if problem:
                self.add_error("shop", problem)
        if brand and platform and name:
            taken = SalesChannel.objects.filter(brand=brand, platform_code=platform, name=name)
            if self.instance.pk is not None:
                taken = taken.exclude(pk=self.instance.channel_id)
            if taken.exists():
                self.add_error("name", f"{brand} already has a {platform} channel named {name}.")
        self._clean_api_host(cleaned)
        return cleaned

    def _clean_api_host(self, cleaned: dict[str, Any]) -> None:
        """The base URL must be one of the platform's own hosts (integrations.connections.api_host_problem), and a
        new base URL or shop sends the credentials somewhere new: they must be entered again in the same form."""
        platform = self.instance.platform if self.instance.pk is not None else str(cleaned.get("platform") or "")
        shop, base_url = cleaned.get("shop"), cleaned.get("api_base_url") or ""
        if shop is None or not registry.is_registered(platform):
            return
        problem = api_host_problem(platform=platform, shop=shop, api_base_url=base_url)
        if problem:
            self.add_error("api_base_url", f"Refused: {problem}.")
        moved = self.instance.pk is not None and (shop, base_url) != (self.instance.shop, self.instance.api_base_url)
        if moved and "new_credentials" in cleaned and not cleaned["new_credentials"]:
            self.add_error(
                "new_credentials",
                "Changing the API base URL or the shop sends the credentials somewhere new: enter them again.",
            )

    def clean_new_credentials(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("new_credentials", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("Credentials must be a JSON object.") from None  # never echo the value
        if not isinstance(value, dict):
            raise forms.ValidationError("Credentials must be a JSON object.")
        # The platform's shape: an existing connection's own platform (fixed), else the one chosen on the form.
        platform = self.instance.platform if self.instance.pk is not None else str(self.data.get("platform") or "")
        if registry.is_registered(platform):
            problems = registry.connector_for(platform).credential_problems(value)
            if problems:  # the problems name fields, never values
                raise forms.ValidationError("; ".join(problems))
        return value


@admin.register(Connection)
class ConnectionAdmin(ConsoleAdmin):
    form = ConnectionForm
    list_display = ["name", "brand", "platform", "shop", "health", "credentials_fingerprint", "last_reconciled_at"]
    list_filter = ["channel__platform_code", "status"]
    list_select_related = ["channel__brand"]
    search_fields = ["channel__name", "shop"]
    brand_field = "channel__brand"
    actions = ["register_webhooks"]
    readonly_fields = [
        "status",
        "status_reason",
        "credentials_fingerprint",
        "signing_secret_fingerprint",
        "previous_valid_until",
        "last_reconciled_at",
        "reconcile_watermark",
    ]
    fieldsets = [
        (None, {"fields": ["brand", "platform", "name", "shop", "api_base_url", "status", "status_reason"]}),
        (
            "Secrets (write-only)",
            {
                "fields": [
                    "new_credentials",
                    "credentials_fingerprint",
                    "new_signing_secret",
                    "signing_secret_fingerprint",
                    "previous_valid_until",
                    "scopes",
                ]
            },
        ),
        (
            "Mappings",
            {
                "fields": ["field_mapping", "status_mapping"],
                "description": "Canonical field → source path, platform status → canonical status. Validated "
                "on save; empty means the platform's default.",
            },
        ),
        (
            "Reconciler",
            {
                "fields": [
                    "reconcile_every_minutes",
                    "fallback_reconcile_every_minutes",
                    "reconcile_overlap_minutes",
                    "silent_after_minutes",
                    "last_reconciled_at",
                    "reconcile_watermark",
                ]
            },
        ),
    ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # What the administrator pastes into the platform: the absolute webhook URL and the topics to subscribe.
        extra = dict(extra_context or {})
        found = Connection.objects.select_related("channel").filter(pk=object_id) if object_id.isdigit() else None
        conn = found.first() if found is not None else None
        if conn is not None:
            extra["webhook_url"] = webhook_url(request, conn)
            extra["onboarding_url"] = reverse("onboarding-checklist", args=[conn.brand_id])
            extra["health"] = connection_health(conn)
            extra["webhook_topics"] = (
                tuple(registry.connector_for(conn.platform).webhook_topics)
                if registry.is_registered(conn.platform)
                else ()
            )
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description="Subscribe the platform's webhooks to this hub", permissions=["change"])
    def register_webhooks(self, request: HttpRequest, queryset: QuerySet[Connection]) -> HttpResponse | None:
        """Through the connector's `register_webhooks` (what is already subscribed is kept, never doubled); each
        connection's outcome in words. From a connection's page (its button) the answer comes back to that page."""
        chosen = list(queryset.select_related("channel__brand"))
        for conn in chosen:
            outcome = webhooks_register(connection=conn, address=webhook_url(request, conn))
            messages.add_message(request, messages.SUCCESS if outcome.ok else messages.ERROR, outcome.words)
        if len(chosen) == 1 and request.POST.get("_from_change_page"):
            return HttpResponseRedirect(reverse("admin:integrations_connection_change", args=[chosen[0].pk]))
        return None

    @admin.display(description="Status")
    def health(self, obj: Connection) -> str:
        # Computed: Active reads as Failing after FAILING_AFTER failed pulls or writes (integrations.connection_status).
        return connection_health(obj).status

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if not self.has_change_permission(request, obj):
            return [fs for fs in self.fieldsets if fs[0] != "Secrets (write-only)"]
        return self.fieldsets

    def save_model(self, request: HttpRequest, obj: Connection, form: Any, change: bool) -> None:
        # Mappings go through the service (validated, recorded with a reason), not straight onto the row.
        new_mappings = (obj.field_mapping, obj.status_mapping)
        if change:
            obj.field_mapping, obj.status_mapping = Connection.objects.values_list(
                "field_mapping", "status_mapping"
            ).get(pk=obj.pk)
            obj._history_user = request.user  # type: ignore[attr-defined]
            super().save_model(request, obj, form, change)
            if form.cleaned_data["name"] != obj.channel.name:
                obj.channel.name = form.cleaned_data["name"]
                save_with_history(obj.channel, actor=request.user, reason="renamed in the console")  # type: ignore[arg-type]
        else:  # the channel and its connection, in one go (the admin's view is one transaction)
            created = services.connection_create(
                brand=form.cleaned_data["brand"],
                platform=form.cleaned_data["platform"],
                name=form.cleaned_data["name"],
                shop=obj.shop,
                actor=request.user,  # type: ignore[arg-type]
                **{name: getattr(obj, name) for name in services.CONNECTION_SETTINGS if name in form.cleaned_data},
            )
            obj.pk, obj.channel, obj.field_mapping, obj.status_mapping = created.pk, created.channel, {}, {}
            obj._state.adding = False
        if new_mappings != (obj.field_mapping, obj.status_mapping):
            try:
                services.connection_set_mappings(
                    connection=obj,
                    field_mapping=new_mappings[0],
                    status_mapping=new_mappings[1],
                    actor=request.user,  # type: ignore[arg-type]
                    reason="mappings edited in the console",
                )
            except DomainError as exc:
                messages.error(request, f"Mappings not saved: {exc.message}")
        credentials = form.cleaned_data.get("new_credentials")
        secret = form.cleaned_data.get("new_signing_secret")
        if (credentials or secret) and not request.user.has_perm(SECRETS_PERMISSION):
            raise PermissionDenied("You may not set connection secrets.")
        try:
            if credentials:
                services.connection_set_credentials(connection=obj, credentials=credentials, actor=request.user)  # type: ignore[arg-type]
            if secret:
                services.connection_set_signing_secret(connection=obj, secret=secret, actor=request.user)  # type: ignore[arg-type]
        except DomainError as exc:
            messages.error(request, exc.message)


class _Evidence(ConsoleAdmin):
    brand_field = "connection__channel__brand"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(_Evidence):
    """Evidence, plus one operation: administrators re-run dead letters after a fix (the list's action, or the
    button on a dead letter's page), through `integrations.delivery_lifecycle.deliveries_rerun`."""

    list_display = [
        "id",
        "received_at",
        "connection",
        "topic",
        "platform_order_id",
        "state",
        "outcome",
        "attempts",
        "next_attempt_at",
    ]
    list_filter = ["state"]
    list_select_related = ["connection__channel"]
    search_fields = ["=platform_order_id", "=delivery_id"]
    exclude = ["body"]
    actions = ["rerun_dead_letters"]
    change_form_template = "admin/integrations/inbounddelivery/change_form.html"

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RERUN_PERMISSION))

    @admin.action(description="Re-run selected dead-lettered deliveries", permissions=["rerun"])
    def rerun_dead_letters(self, request: HttpRequest, queryset: QuerySet[InboundDelivery]) -> None:
        self._rerun(request, list(queryset.values_list("pk", flat=True)))

    def _rerun(self, request: HttpRequest, ids: list[int]) -> None:
        try:
            count = deliveries_rerun(ids=ids, actor=request.user)  # type: ignore[arg-type]
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        skipped = len(ids) - count
        note = f"; {skipped} not dead-lettered, left as they were" if skipped else ""
        messages.success(request, f"Re-queued {count} dead-lettered deliver{'y' if count == 1 else 'ies'}{note}.")

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/rerun/",
                self.admin_site.admin_view(self.rerun_view),
                name="integrations_inbounddelivery_rerun",
            )
        ]
        return own + super().get_urls()

    def rerun_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_rerun_permission(request):
            raise PermissionDenied
        delivery = get_object_or_404(self.get_queryset(request), pk=object_id)
        self._rerun(request, [delivery.pk])
        return HttpResponseRedirect(reverse("admin:integrations_inbounddelivery_change", args=[delivery.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        delivery = self.get_object(request, object_id)
        if delivery is not None and delivery.state in RERUNNABLE and self.has_rerun_permission(request):
            extra["rerun_url"] = reverse("admin:integrations_inbounddelivery_rerun", args=[delivery.pk])
        return super().change_view(request, object_id, form_url, extra)


@admin.register(AuditRecord)
class AuditRecordAdmin(_Evidence):
    list_display = ["at", "connection", "direction", "method", "endpoint", "status_code", "outcome", "latency"]
    list_filter = ["direction", "outcome"]
    list_select_related = ["connection__channel"]
    exclude = ["latency_ms"]  # shown as `latency`, in words
    readonly_fields = ["latency"]

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, obj: AuditRecord) -> str:
        return duration_words(obj.latency_ms)


@admin.register(ReconcileRun)
class ReconcileRunAdmin(_Evidence):
    list_display = [
        "started_at", "connection", "full", "pulled", "missing", "stale", "replayed", "outcome", "duration",
    ]  # fmt: skip
    list_filter = ["full", "outcome"]
    list_select_related = ["connection__channel"]
    exclude = ["duration_ms"]  # shown as `duration`, in words
    readonly_fields = ["duration"]

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, obj: ReconcileRun) -> str:
        return duration_words(obj.duration_ms)


class ExternalIdForm(forms.ModelForm):
    class Meta:
        model = ExternalId
        fields = ["connection", "kind", "local_id", "external_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "connection" in self.fields:  # each choice is named by its channel: one query, not one per connection
            self.fields["connection"].queryset = Connection.objects.select_related("channel")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        connection, kind, local_id = data.get("connection"), data.get("kind"), data.get("local_id")
        if connection is None or not kind or local_id is None:
            return data
        if kind == ExternalIdKind.LISTING and not Sku.objects.filter(pk=local_id, brand=connection.brand).exists():
            self.add_error("local_id", f"No SKU {local_id} of {connection.brand}.")
        if kind == ExternalIdKind.LOCATION and not Facility.objects.filter(pk=local_id).exists():
            self.add_error("local_id", f"No facility {local_id}.")
        return data


@admin.register(ExternalId)
class ExternalIdAdmin(ConsoleAdmin):
    """The generic mapping table: a SKU's listing and a facility's location on each connection's platform, in the
    form the platform's connector reads (checked on save)."""

    form = ExternalIdForm
    brand_field = "connection__channel__brand"
    list_display = ["connection", "kind", "local_id", "local_record", "external_id"]
    list_filter = ["kind"]
    list_select_related = ["connection__channel"]
    search_fields = ["=external_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExternalId]:
        sku = Sku.objects.filter(pk=OuterRef("local_id")).values("code")[:1]
        facility = Facility.objects.filter(pk=OuterRef("local_id")).values("code")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(
                record_code=Case(When(kind=ExternalIdKind.LISTING, then=Subquery(sku)), default=Subquery(facility))
            )
        )

    @admin.display(description="record")
    def local_record(self, obj: ExternalId) -> str:
        return str(getattr(obj, "record_code", None) or "(gone)")
