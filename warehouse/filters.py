"""Filters of the exception queue, shared by the page and the API, and the brand choice every list filter offers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from warehouse.models import Brand, ExceptionItem, ExceptionKind, ExceptionState, Facility
from warehouse.roles import brands_visible_to


def brand_choices(request: Any) -> QuerySet[Brand]:
    """The brands a filter may offer: those the user sees (none without a request, as in schema generation)."""
    return brands_visible_to(request.user) if request is not None else Brand.objects.none()


AGE_CHOICES = [
    ("1h", "Older than 1 hour"),
    ("4h", "Older than 4 hours"),
    ("24h", "Older than 24 hours"),
    ("7d", "Older than 7 days"),
]
_AGES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


class ExceptionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ExceptionKind.choices, empty_label="All kinds")
    state = django_filters.ChoiceFilter(choices=ExceptionState.choices, empty_label="Open and escalated")
    brand = django_filters.ModelChoiceFilter(queryset=brand_choices, empty_label="All brands")
    facility = django_filters.ModelChoiceFilter(queryset=Facility.objects.all(), empty_label="All facilities")
    older_than = django_filters.ChoiceFilter(
        choices=AGE_CHOICES, method="filter_older_than", label="Age", empty_label="Any age"
    )

    class Meta:
        model = ExceptionItem
        fields = ["kind", "state", "brand", "facility", "older_than"]

    def filter_older_than(self, queryset: QuerySet[ExceptionItem], name: str, value: str) -> QuerySet[ExceptionItem]:
        if value not in _AGES:
            return queryset
        return queryset.filter(opened_at__lte=timezone.now() - _AGES[value])
