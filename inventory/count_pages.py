"""Count tasks on a page: the open shelves to count (short picks open them), and a manager's form to record the count,
which runs `count_task_record` (a cycle count: the physical count wins). Recently counted tasks are listed below."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from inventory.counts import APPROVE_COUNT, count_task_record
from inventory.models import CountTask, CountTaskState
from inventory.page_support import run_service

READ = "inventory.view_counttask"


def _tasks(user: Any) -> Any:
    if not user.has_perm(READ):
        raise PermissionDenied
    return CountTask.objects.select_related("sku", "facility", "opened_by", "done_by")


@login_required
@require_http_methods(["GET"])
def count_task_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    tasks = _tasks(user)
    return render(
        request,
        "inventory/count_tasks.html",
        {
            "nav": "stock",
            "open": list(tasks.filter(state=CountTaskState.OPEN).order_by("created_at", "id")[:200]),
            "done": list(tasks.filter(state=CountTaskState.DONE).order_by("-done_at", "-id")[:20]),
            "may_record": user.has_perm(APPROVE_COUNT),
        },
    )


@login_required
@require_POST
def count_task_record_page(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    task = get_object_or_404(_tasks(user), pk=pk)
    run_service(
        request,
        lambda: count_task_record(
            task=task, counted=request.POST.get("counted", ""), note=request.POST.get("note", ""), actor=user
        ),
        lambda t: f"{t.sku.code} at {t.facility.code}: counted {t.counted} (the system had {t.expected}).",
    )
    return HttpResponseRedirect(reverse("count-tasks"))
