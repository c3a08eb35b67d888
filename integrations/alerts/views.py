"""Pages of the alerts: the runbooks (one per failure shape) and an incident's page (its timeline, its runbook,
acknowledge, snooze with a reason, the post-incident review, a replay from the platform). Staff who may view
incidents read them; acting needs `alerts.operate_incident`, checked before anything is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from integrations.alerts.incidents import (
    incident_acknowledge,
    incident_entry_add,
    incident_review_save,
    incident_snooze,
)
from integrations.alerts.models import OPERATE_INCIDENT, EntryKind, Incident
from integrations.alerts.runbooks import POSTMORTEM_FIELDS, RUNBOOKS
from warehouse.errors import DomainError

VIEW_INCIDENT = "alerts.view_incident"
SNOOZE_CHOICES = [(30, "30 minutes"), (60, "1 hour"), (240, "4 hours"), (1440, "1 day")]


def _can_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_INCIDENT):
        raise PermissionDenied


def _can_operate(request: HttpRequest) -> None:
    if not request.user.has_perm(OPERATE_INCIDENT):
        raise PermissionDenied


@login_required
@require_GET
def runbook_list(request: HttpRequest) -> HttpResponse:
    _can_view(request)
    return render(request, "alerts/runbook_list.html", {"runbooks": RUNBOOKS.values(), "nav": "health"})


@login_required
@require_GET
def runbook_page(request: HttpRequest, slug: str) -> HttpResponse:
    _can_view(request)
    book = RUNBOOKS.get(slug)
    if book is None:
        raise Http404("No such runbook")
    return render(request, "alerts/runbook.html", {"book": book, "questions": POSTMORTEM_FIELDS, "nav": "health"})


@login_required
@require_GET
def incident_page(request: HttpRequest, pk: int) -> HttpResponse:
    _can_view(request)
    incident = get_object_or_404(
        Incident.objects.select_related("rule", "connection__channel__brand", "acknowledged_by", "postmortem_by"),
        pk=pk,
    )
    return render(request, "alerts/incident.html", _context(request, incident))


def _context(request: HttpRequest, incident: Incident, **extra: Any) -> dict[str, Any]:
    answers = extra.pop("answers", None) or incident.postmortem
    return {
        "incident": incident,
        "book": RUNBOOKS[incident.runbook],
        "entries": incident.entries.select_related("actor").order_by("at", "pk"),
        "questions": [(name, question, answers.get(name, "")) for name, question in POSTMORTEM_FIELDS],
        "snooze_choices": SNOOZE_CHOICES,
        "can_operate": request.user.has_perm(OPERATE_INCIDENT),
        "nav": "health",
        **extra,
    }


def _refused(request: HttpRequest, incident: Incident, exc: DomainError, **extra: Any) -> HttpResponse:
    status = getattr(exc, "http_status", 422)
    if status == 403:
        raise PermissionDenied
    errors = [r.message for r in exc.reasons] or [exc.message]
    return render(request, "alerts/incident.html", _context(request, incident, errors=errors, **extra), status=status)


@login_required
@require_POST
def incident_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    _can_operate(request)
    incident = get_object_or_404(Incident, pk=pk)
    incident_acknowledge(incident=incident, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, "Incident acknowledged.")
    return redirect("incident", pk=pk)


@login_required
@require_POST
def incident_snooze_view(request: HttpRequest, pk: int) -> HttpResponse:
    _can_operate(request)
    incident = get_object_or_404(Incident, pk=pk)
    try:
        minutes = int(request.POST.get("minutes", ""))
    except ValueError:
        minutes = 0
    if minutes not in dict(SNOOZE_CHOICES):
        return render(
            request, "alerts/incident.html", _context(request, incident, errors=["Choose how long to snooze."]),
            status=422,
        )  # fmt: skip
    until = timezone.now() + dt.timedelta(minutes=minutes)
    try:
        incident_snooze(incident=incident, until=until, reason=request.POST.get("reason", ""), actor=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        return _refused(request, incident, exc)
    messages.success(request, "Incident snoozed.")
    return redirect("incident", pk=pk)


@login_required
@require_POST
def incident_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    _can_operate(request)
    incident = get_object_or_404(Incident, pk=pk)
    answers = {name: request.POST.get(name, "") for name, _ in POSTMORTEM_FIELDS}
    try:
        incident_review_save(incident=incident, answers=answers, actor=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        return _refused(request, incident, exc, answers=answers)
    messages.success(request, "Post-incident review saved.")
    return redirect("incident", pk=pk)


@login_required
@require_POST
def incident_replay_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Runbook "brand-side admin edit": pull the connection's orders again in full and replay what differs."""
    _can_operate(request)
    incident = get_object_or_404(Incident, pk=pk)
    async_task("integrations.tasks.reconcile_connection", incident.connection_id, True, group="integrations.reconcile")
    incident_entry_add(
        incident=incident, kind=EntryKind.NOTE, actor=request.user,  # type: ignore[arg-type]
        text=f"full replay from the platform requested by {request.user}",
    )  # fmt: skip
    messages.success(request, "A full replay from the platform was queued.")
    return redirect("incident", pk=pk)
