"""django-q2 entry points of the alerts (ids in, idempotent)."""

from __future__ import annotations

from django_q.tasks import async_task

from integrations.alerts.notify import TASK, notification_send, notifications_due
from integrations.alerts.rules import alerts_evaluate


def alerts_evaluate_due() -> int:
    """Scheduled every minute: evaluate every rule, then wake the notifications whose attempt is due (retries and
    tasks lost in a crash). Returns the incidents opened."""
    evaluation = alerts_evaluate()
    for pk in notifications_due():
        async_task(TASK, pk, group="alerts.notify")
    return len(evaluation.opened)


def alerts_notification_send(notification_id: int) -> str:
    return notification_send(notification_id=notification_id)
