"""Read queries of the operator's core."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from warehouse.memo import memoized
from warehouse.models import Brand, ExceptionItem, ExceptionState, Facility, SalesChannel, TransitionRecord


@memoized
def facility_list() -> list[Facility]:
    """Every facility (a handful), read once per unit of work when memoised."""
    return list(Facility.objects.order_by("code"))


def facility_by_pk(pk: int) -> Facility | None:
    return next((f for f in facility_list() if f.pk == pk), None)


def sales_channels_of(*, brand: Brand | int) -> QuerySet[SalesChannel]:
    return SalesChannel.objects.filter(brand=brand).order_by("name", "pk")


def sales_channel_platform_codes() -> list[str]:
    """The platform codes the brands sell on (what a cutoff can be set for), as data: the core names none."""
    return list(SalesChannel.objects.order_by("platform_code").values_list("platform_code", flat=True).distinct())


def exceptions_open_for(*, subject: models.Model) -> QuerySet[ExceptionItem]:
    return ExceptionItem.objects.filter(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        state__in=[ExceptionState.OPEN, ExceptionState.ESCALATED],
    )


def transitions_of(*, subject: models.Model) -> QuerySet[TransitionRecord]:
    return TransitionRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("actor")


def exception_queue_for(*, user: Any) -> QuerySet[ExceptionItem]:
    """Open and escalated exceptions the user may see, oldest first, joined for the queue page and the API."""
    from warehouse.roles import scope_to_brands

    queryset = (
        ExceptionItem.objects.filter(state__in=[ExceptionState.OPEN, ExceptionState.ESCALATED])
        .select_related("brand", "facility", "content_type", "decided_by")
        .order_by("opened_at", "id")
    )
    return scope_to_brands(queryset, user)


def exceptions_for(*, user: Any, state: str | None = None) -> QuerySet[ExceptionItem]:
    """What the queue's state filter asks for: the open queue by default, or the resolved items, the latest decision
    first, with who decided (the queue alone would make the "Resolved" filter read as an empty queue)."""
    if state != ExceptionState.RESOLVED:
        return exception_queue_for(user=user)
    from warehouse.roles import scope_to_brands

    queryset = (
        ExceptionItem.objects.filter(state=ExceptionState.RESOLVED)
        .select_related("brand", "facility", "content_type", "decided_by")
        .order_by("-decided_at", "-id")
    )
    return scope_to_brands(queryset, user)


def exception_counts_by_kind(*, user: Any) -> dict[str, int]:
    """Open exceptions per kind (escalated ones are counted too: both wait for a person)."""
    rows = exception_queue_for(user=user).order_by().values_list("kind").annotate(n=models.Count("id"))
    return dict(rows)
