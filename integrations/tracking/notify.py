"""Whether the channel notifies the customer of a dispatch: each brand's choice, notifying unless it said not to."""

from __future__ import annotations

from integrations.tracking.models import BrandTrackingSettings


def brand_notifies_customer(brand_id: int | None) -> bool:
    if brand_id is None:
        return True
    chosen = BrandTrackingSettings.objects.filter(brand_id=brand_id).values_list("notify_customer", flat=True).first()
    return True if chosen is None else bool(chosen)
