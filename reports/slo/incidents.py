"""The incidents that touched a brand's connections, in plain words, read from the exception queue: an incident is
an `ExceptionItem` of kind INCIDENT (opened by the SLO evaluation here, or by the alerting in
`integrations/alerts`), tied to the brand or to one of its connections. Read only through this selector.

The words a brand reads: an alert's incident (`integrations.alerts.Incident`, one-to-one with its item) has its own
`brand_summary` and closes with an automatic "recovered: <signal> …" note meant for staff, so it reads as its brand
summary and how long it lasted; any other incident item reads as its summary, how long it lasted and the note the
person who closed it wrote ("We switched to polling; no order was lost.")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from integrations.models import Connection
from warehouse.durations import duration_words
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

STILL_OPEN = (ExceptionState.OPEN, ExceptionState.ESCALATED)


@dataclass(frozen=True)
class Incident:
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    summary: str
    outcome: str  # what was done, as recorded when it was closed ("" while open)

    @property
    def words(self) -> str:
        """ "On 3 Dec 14:05 UTC: Shopify webhooks were delayed. Lasted 40 min. We switched to polling.\""""
        text = f"On {self.opened_at:%-d %b %H:%M} UTC: {self.summary.rstrip('.')}."
        if self.closed_at is None:
            return f"{text} Still open."
        text += f" Lasted {duration_words(self.closed_at - self.opened_at)}."
        return f"{text} {self.outcome.strip()}" if self.outcome.strip() else text


def incidents_touching(
    *, brand_id: int, connection_ids: list[int], since: dt.datetime, until: dt.datetime | None = None
) -> list[Incident]:
    """Incidents of the brand or its connections open at some moment of [since, until), oldest first."""
    on_connection = Q(content_type=ContentType.objects.get_for_model(Connection), object_id__in=connection_ids)
    items = ExceptionItem.objects.filter(kind=ExceptionKind.INCIDENT).filter(Q(brand_id=brand_id) | on_connection)
    items = items.filter(Q(state__in=STILL_OPEN) | Q(decided_at__gte=since))
    if until is not None:
        items = items.filter(opened_at__lt=until)
    found = []
    for i in items.select_related("incident").order_by("opened_at", "id"):
        alert = getattr(i, "incident", None)  # an alert's incident (integrations.alerts), if this item is one
        closed = None if i.state in STILL_OPEN else (i.decided_at or i.opened_at)
        if alert is not None:
            found.append(Incident(i.opened_at, closed, alert.brand_summary or i.summary, ""))
        else:
            found.append(Incident(i.opened_at, closed, i.summary, i.decision_note))
    return found
