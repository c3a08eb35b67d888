"""django-q2 entry points. Each takes ids and is idempotent (the ORM broker is at-least-once)."""

from __future__ import annotations

from django_q.tasks import async_task

from integrations.ingest import delivery_process_safely


def inbound_delivery_enqueue(delivery_id: int) -> None:
    async_task(
        "integrations.tasks.inbound_delivery_process",
        delivery_id,
        group="integrations.inbox",
        q_options={"task_name": f"inbound-delivery-{delivery_id}"},
    )


def inbound_delivery_process(delivery_id: int) -> str:
    return delivery_process_safely(delivery_id=delivery_id)
