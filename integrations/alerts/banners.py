"""The brand console's banner (runbook "platform outage": surface it in the brand console): a brand user's pages say
in plain words which of their connections has an open paging incident. A callable, so the query runs only when the
template shows the banner (brand users' pages), never on staff pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from integrations.alerts.models import Incident, Severity
from warehouse.roles import brands_visible_to


def incident_banners(request: HttpRequest) -> dict[str, Callable[[], list[dict[str, Any]]]]:
    def banners() -> list[dict[str, Any]]:
        user = request.user
        if not user.is_authenticated:
            return []
        rows = (
            Incident.objects.filter(closed_at__isnull=True, severity=Severity.PAGE, brand__in=brands_visible_to(user))
            .select_related("connection__channel")
            .order_by("opened_at")[:5]
        )
        return [{"channel": i.connection.channel.name, "summary": i.brand_summary, "since": i.opened_at} for i in rows]

    return {"incident_banners": banners}
