"""Read queries of the operator's core."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from warehouse.models import ExceptionItem, ExceptionState, TransitionRecord


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
