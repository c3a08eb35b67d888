"""The operations console on the Django admin: the machinery every app's admin uses, and the core's models.

`ConsoleAdmin` keeps list pages fast on big tables (no full count, a bounded paginator, joins declared) and scopes
every list by the user's brands. `TransitionAdmin` adds, on the object page, one button per transition that exists
from the current state and that the user may take, a forced-transition form asking a reason (managers only), and
the object's history (transition records and simple-history rows). Each POST goes through the service again:
django-fsm's own admin would accept a crafted POST for a transition the user lacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from simple_history.admin import SimpleHistoryAdmin

from warehouse.api.pagination import BoundedCountPaginator
from warehouse.errors import DomainError
from warehouse.models import Brand, ExceptionItem, Facility, SalesChannel, TransitionRecord
from warehouse.roles import scope_to_brands
from warehouse.selectors import exception_counts_by_kind, transitions_of
from warehouse.transitions import (
    force_permission,
    transition_apply,
    transition_label,
    transition_names,
    transitions_available,
)

TransitionService = Callable[..., Any]


class ConsoleAdmin(admin.ModelAdmin):
    """Fast, brand-scoped list pages. `brand_field` names the path to the brand (None: not brand data)."""

    show_full_result_count = False
    paginator = BoundedCountPaginator
    list_per_page = 50
    brand_field: str | None = "brand"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if self.brand_field:
            queryset = scope_to_brands(queryset, request.user, field=self.brand_field)  # type: ignore[arg-type]
        return queryset


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's pages of an object's versions, read only. Its version page saves a posted form for anyone
    who may merely view the history (the "Revert" button is only hidden from them), and a revert would bypass the
    services (transitions, the reason an edit needs): a POST there is refused for everyone."""

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class TransitionAdmin(ConsoleAdmin, HistoryAdmin):
    """Object pages with transition buttons, a forced transition with a reason, and the object's history.

    `transition_services` maps a transition name to the app's service `fn(*, obj, actor, reason)`; transitions not
    listed go through `warehouse.transitions.transition_apply`."""

    change_form_template = "admin/transition_change_form.html"
    state_field = "state"
    transition_services: dict[str, TransitionService] = {}
    # False: only transitions with an app service are offered (their service moves stock and writes the timeline).
    offer_without_service = True

    def get_transition_service(self, name: str) -> TransitionService | None:
        return self.transition_services.get(name)

    def offered(self, name: str) -> bool:
        return self.offer_without_service or self.get_transition_service(name) is not None

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            path(
                "<path:object_id>/force/",
                self.admin_site.admin_view(self.force_view),
                name="{}_{}_force".format(*info),
            ),
        ]
        return own + super().get_urls()

    # What the object page offers --------------------------------------------------------------------------------
    def transition_buttons(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        """Transitions from the current state that the user is permitted to take, with any guard that blocks them."""
        actions = transitions_available(
            obj,
            request.user,
            field=self.state_field,
            offered=self.offered,
            may_take=lambda name: self.may_take(request, obj, name),
        )
        # Each posts to the URL reversed from the route that serves it: the change URL is not a prefix of it.
        return [
            {"name": a.name, "label": a.label, "blocked": a.blocked, "url": self._url("transition", obj, a.name)}
            for a in actions
        ]

    def may_take(self, request: HttpRequest, obj: Any, name: str) -> bool:
        """A transition declaring `permission=` is checked by django-fsm (and again by the service); one without
        needs the model's change permission, so view-only roles (finance) never get a button."""
        meta = getattr(obj, name)._django_fsm
        transition = meta.get_transition(meta.field.get_state(obj))
        if transition is not None and transition.permission:
            return True
        return bool(self.has_change_permission(request, obj))

    def can_force(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(force_permission(self.model)))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra["transition_buttons"] = self.transition_buttons(request, obj)
            names = transition_names(obj, self.state_field) if self.can_force(request) else []
            extra["force_choices"] = [{"name": n, "label": transition_label(n)} for n in names]
            extra["transition_records"] = list(transitions_of(subject=obj)[:50])
            extra["force_url"] = self._url("force", obj)
        return super().change_view(request, object_id, form_url, extra)

    def _url(self, view: str, obj: Any, *args: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}", args=[obj.pk, *args])

    # The POSTs, re-checked by the service ---------------------------------------------------------------------
    def _object_or_404(self, request: HttpRequest, object_id: str) -> Any:
        # The admin's own look-up: an id that is not one of this model's keys (a crafted "9/change") is a 404.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No such {self.opts.verbose_name}.")
        return obj

    def _back(self, obj: Any) -> HttpResponseRedirect:
        return HttpResponseRedirect(self._url("change", obj))

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        obj = self._object_or_404(request, object_id)
        # An unknown or wrong-state name falls through to the service, which refuses it (409, shown as a message).
        if name in transition_names(obj, self.state_field) and not self.may_take(request, obj, name):
            raise PermissionDenied
        reason = request.POST.get("reason", "").strip()
        service = self.get_transition_service(name)
        try:
            if service is not None:
                service(obj=obj, actor=request.user, reason=reason)
            elif not self.offer_without_service:
                messages.error(request, f"{transition_label(name)} is not offered here.")
                return self._back(obj)
            else:
                transition_apply(obj=obj, name=name, actor=request.user, reason=reason)  # type: ignore[arg-type]
        except DomainError as exc:
            if exc.http_status == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{transition_label(name)}: done. {self._now(obj)}")
        return self._back(obj)

    def _now(self, obj: Any) -> str:
        """Where the object stands after a step, in words (read again: the service saved its own instance)."""
        obj.refresh_from_db()
        state = getattr(obj, f"get_{self.state_field}_display", lambda: getattr(obj, self.state_field))()
        return f"The {self.opts.verbose_name} is now {str(state).lower()}."

    def force_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.can_force(request):
            raise PermissionDenied
        obj = self._object_or_404(request, object_id)
        name = request.POST.get("name", "")
        reason = request.POST.get("reason", "").strip()
        if name not in transition_names(obj, self.state_field) or not self.offered(name):
            messages.error(request, f"{transition_label(name) if name else 'That step'} is not possible now.")
            return self._back(obj)
        service = self.get_transition_service(name)
        try:
            if service is not None and not self.offer_without_service:
                service(obj=obj, actor=request.user, reason=reason, force=True)
            else:
                transition_apply(obj=obj, name=name, actor=request.user, reason=reason, force=True)  # type: ignore[arg-type]
        except DomainError as exc:
            if exc.http_status == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Forced “{transition_label(name)}”, reason recorded. {self._now(obj)}")
        return self._back(obj)


# The core's models ------------------------------------------------------------------------------------------------
@admin.register(Brand)
class BrandAdmin(ConsoleAdmin, HistoryAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    brand_field = "pk"


@admin.register(Facility)
class FacilityAdmin(ConsoleAdmin, HistoryAdmin):
    list_display = ["code", "name", "city", "country", "time_zone"]
    search_fields = ["code", "name"]
    brand_field = None


@admin.register(SalesChannel)
class SalesChannelAdmin(ConsoleAdmin, HistoryAdmin):
    """A channel is made with its connection (integrations' admin and `connection_create`), its platform identity
    from the platforms registry; here only its name and SLA window are edited."""

    list_display = ["name", "brand", "platform_code", "is_marketplace", "sla_window_hours", "created_at"]
    list_filter = ["platform_code", "is_marketplace"]
    list_select_related = ["brand"]
    search_fields = ["name"]
    fields = ["brand", "platform_code", "name", "is_marketplace", "sla_window_hours", "created_at"]
    readonly_fields = ["brand", "platform_code", "is_marketplace", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # orders point at it (PROTECT); a channel that stops selling keeps its history


@admin.register(ExceptionItem)
class ExceptionItemAdmin(TransitionAdmin):
    list_display = ["id", "kind", "summary", "brand", "facility", "state", "opened_at"]
    list_filter = ["state", "kind"]  # plain columns: no DISTINCT, no join
    list_select_related = ["brand", "facility"]
    search_fields = ["=id", "summary"]
    ordering = ["opened_at", "id"]
    readonly_fields = [
        "kind",
        "brand",
        "facility",
        "content_type",
        "object_id",
        "summary",
        "detail",
        "dedupe_key",
        "opened_at",
        "state",
        "decision_note",
        "decided_by",
        "decided_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # exceptions are opened by the services that find a problem

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an exception is closed by a decision, never deleted

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        # Resolving or escalating needs a note: the service refuses a blank one (shown as a message).
        from warehouse.services import exception_escalate, exception_resolve_by_hand

        service = {"resolve": exception_resolve_by_hand, "escalate": exception_escalate}.get(name)
        if service is None or request.method != "POST":
            return super().transition_view(request, object_id, name)
        item = self._object_or_404(request, object_id)
        try:
            service(item=item, actor=request.user, note=request.POST.get("reason", ""))  # type: ignore[arg-type]
        except DomainError as exc:
            if exc.http_status == 403:
                raise PermissionDenied(exc.message) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Exception #{item.pk}: {name} recorded.")
        return self._back(item)


@admin.register(TransitionRecord)
class TransitionRecordAdmin(ConsoleAdmin):
    """Append-only: readable by staff, never edited."""

    list_display = ["at", "content_type", "object_id", "name", "source", "target", "actor", "forced", "reason"]
    list_filter = ["forced", "content_type"]
    list_select_related = ["content_type", "actor"]
    search_fields = ["=object_id"]
    brand_field = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Counts per kind on the console's index page.
_index = admin.site.index


def _index_with_exception_counts(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
    extra = dict(extra_context or {})
    if request.user.has_perm("warehouse.view_exceptionitem"):
        counts = exception_counts_by_kind(user=request.user)
        labels = dict(ExceptionItem._meta.get_field("kind").choices or [])
        extra["exception_counts"] = [
            {"kind": kind, "label": labels.get(kind, kind), "n": n} for kind, n in sorted(counts.items())
        ]
    return _index(request, extra)


admin.site.index = _index_with_exception_counts  # type: ignore[method-assign]
admin.site.index_template = "admin/console_index.html"
admin.site.site_header = "3PL hub · operations console"
admin.site.site_title = "3PL hub console"
admin.site.index_title = "Operations console"

# The console's user pages replace django.contrib.auth's stock user admin (they need ConsoleAdmin, defined above).
from warehouse import user_admin  # noqa: E402, F401
