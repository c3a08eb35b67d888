"""The filter every finance report takes: brand, facility, channel and a date range, checked and scoped to the brands
the user may see. A bad value is an error in words, never a silently widened report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, QueryDict
from django.utils import timezone

from warehouse.models import Brand, Facility, SalesChannel
from warehouse.roles import UserLike, brands_visible_to

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass
class ReportFilter:
    brand_ids: list[int]  # the brands the report covers: the one chosen, else every brand the user sees
    date_from: dt.date
    date_to: dt.date  # inclusive
    facility: Facility | None = None
    channel: SalesChannel | None = None
    brand: Brand | None = None
    errors: list[str] = field(default_factory=list)
    visible: list[Brand] = field(default_factory=list)  # the user's brands (names for the rows, without a query)

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date_from, dt.time.min))

    @property
    def end(self) -> dt.datetime:
        """Exclusive: midnight after `date_to`."""
        return timezone.make_aware(dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min))

    def as_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        for name, obj in (("brand", self.brand), ("facility", self.facility), ("channel", self.channel)):
            if obj is not None:
                params[name] = obj.pk
        return params


def _date(raw: str, label: str, errors: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{label}: “{raw[:40]}” is not a date (YYYY-MM-DD).")
        return None


def _pk(raw: str, label: str) -> int:
    if not raw.isdigit():
        raise Http404(f"unknown {label}")
    return int(raw)


def report_filter(
    params: QueryDict | dict[str, Any], user: UserLike, visible: list[Brand] | None = None
) -> ReportFilter:
    """The filter from a page's query string. A brand, facility or channel the user may not see is a 404 (as if it
    did not exist); a bad date or range is an error in `errors`, and the report then shows the default range.
    `visible`: the user's brands when the caller has them already."""
    visible = visible if visible is not None else list(brands_visible_to(user))
    by_pk = {b.pk: b for b in visible}
    errors: list[str] = []
    today = timezone.localdate()
    date_to = _date(str(params["to"]), "To", errors) if params.get("to") else today
    date_from = _date(str(params["from"]), "From", errors) if params.get("from") else None
    date_to = date_to or today
    date_from = date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        errors.append("From is after To.")
        date_from = date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if (date_to - date_from).days + 1 > MAX_DAYS:
        errors.append(f"A report covers at most {MAX_DAYS} days; choose a shorter range.")
        date_from = date_to - dt.timedelta(days=MAX_DAYS - 1)

    brand = facility = channel = None
    if params.get("brand"):
        brand = by_pk.get(_pk(str(params["brand"]), "brand"))
        if brand is None:
            raise Http404("unknown brand")
    if params.get("channel"):
        channel = (
            SalesChannel.objects.filter(pk=_pk(str(params["channel"]), "channel"), brand_id__in=list(by_pk))
            .select_related("brand")
            .first()
        )
        if channel is None:
            raise Http404("unknown channel")
    if params.get("facility"):
        facility = Facility.objects.filter(pk=_pk(str(params["facility"]), "facility")).first()
        if facility is None:
            raise Http404("unknown facility")
    brand_ids = [brand.pk] if brand else list(by_pk)
    if channel is not None:
        brand_ids = [b for b in brand_ids if b == channel.brand_id]
    return ReportFilter(
        brand_ids=brand_ids,
        date_from=date_from,
        date_to=date_to,
        facility=facility,
        channel=channel,
        brand=brand,
        errors=errors,
        visible=visible,
    )
