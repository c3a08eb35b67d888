"""Count tasks: "count this shelf", opened when a picker finds fewer units than the system (a short pick), done by
recording a cycle count through `stock_cycle_count` (the physical count wins; expected, counted, variance, who
counted and approved, and why are in the ledger). The person who records the count is its approver, so it needs
`inventory.approve_cycle_count` (managers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.models import CountTask, CountTaskState, Sku, StockLevel
from inventory.services import stock_cycle_count
from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.limits import text_within
from warehouse.models import Facility
from warehouse.transitions import Actor

APPROVE_COUNT = "inventory.approve_cycle_count"


def count_task_open(*, sku: Sku, facility: Facility, reason: str, actor: Actor) -> CountTask:
    """One open task per SKU and facility: a second short pick on the same shelf adds its reason to the open one."""
    reason = text_within(reason, field="reason", limit=300)
    task = CountTask.objects.select_for_update().filter(sku=sku, facility=facility, state=CountTaskState.OPEN).first()
    if task is not None:
        if reason and reason not in task.reason:
            task.reason = f"{task.reason}; {reason}"[:300]
            task.save(update_fields=["reason"])
        return task
    return CountTask.objects.create(sku=sku, facility=facility, reason=reason or "count requested", opened_by=actor)


def _counted(value: Any) -> int:
    text = str(value).strip() if value is not None else ""
    if isinstance(value, bool) or not text.isdigit():
        message = f"Counted {value!r} is not a whole number of units (0 or more)"
        raise InvalidInput(message, reasons=[Reason("counted", message)])
    return int(text)


def count_task_record(*, task: CountTask, counted: Any, actor: Actor, note: str = "") -> CountTask:
    """The shelf was counted: the count becomes on hand through a cycle count (its variance traced in the ledger)."""
    if actor is None or not actor.has_perm(APPROVE_COUNT):
        raise NotPermitted("You may not record a count: a manager approves stock counts.")
    units = _counted(counted)
    note = text_within(note, field="note", limit=200)
    with transaction.atomic():
        task = CountTask.objects.select_for_update().select_related("sku", "facility").get(pk=task.pk)
        if task.state != CountTaskState.OPEN:
            raise TransitionNotAllowed(
                "This count task is already done.", reasons=[Reason("count_task_done", "the shelf was counted")]
            )
        # read now, before the count overwrites on hand (a lazy queryset would read the counted number)
        before = list(StockLevel.objects.filter(sku=task.sku, facility=task.facility).values_list("on_hand", flat=True))
        event_id = f"count-task:{task.pk}"
        stock_cycle_count(
            sku=task.sku,
            facility=task.facility,
            counted=units,
            event_id=event_id,
            actor=actor,
            approver=actor,
            reason=f"count task: {task.reason}" + (f" ({note})" if note else ""),
        )
        task.expected = next(iter(before), 0)
        task.counted, task.event_id, task.state = units, event_id, CountTaskState.DONE
        task.done_by, task.done_at = actor, timezone.now()
        task.save(update_fields=["expected", "counted", "event_id", "state", "done_by", "done_at"])
        return task
