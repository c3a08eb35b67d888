"""Read queries of the connector framework for pages, the API and reports. They return querysets."""

from __future__ import annotations

from django.db.models import QuerySet

from integrations.models import AuditRecord, Connection, InboundDelivery, ReconcileRun


def connection_list(*, brand_ids: list[int] | None = None) -> QuerySet[Connection]:
    """Connections, optionally limited to some brands (secret columns deferred: pages never need them)."""
    qs = Connection.objects.select_related("channel__brand").defer(
        "credentials", "signing_secret", "previous_signing_secret"
    )
    return qs.filter(channel__brand_id__in=brand_ids) if brand_ids is not None else qs


def delivery_list(*, connection: Connection, state: str | None = None) -> QuerySet[InboundDelivery]:
    qs = InboundDelivery.objects.filter(connection=connection).defer("body")
    return qs.filter(state=state) if state else qs


def audit_list(*, connection: Connection | None = None, direction: str | None = None) -> QuerySet[AuditRecord]:
    qs = AuditRecord.objects.select_related("connection__channel")
    if connection is not None:
        qs = qs.filter(connection=connection)
    return qs.filter(direction=direction) if direction else qs


def reconcile_run_list(*, connection: Connection) -> QuerySet[ReconcileRun]:
    return ReconcileRun.objects.filter(connection=connection)
