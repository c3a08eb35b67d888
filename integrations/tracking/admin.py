"""The console's page of the brands' tracking settings: whether the channel e-mails the customer the tracking when
a parcel is dispatched (administrators; a brand without a row notifies)."""

from __future__ import annotations

from django.contrib import admin

from integrations.tracking.models import BrandTrackingSettings
from warehouse.admin import ConsoleAdmin, HistoryAdmin


@admin.register(BrandTrackingSettings)
class BrandTrackingSettingsAdmin(HistoryAdmin, ConsoleAdmin):
    list_display = ["brand", "notify_customer"]
    list_filter = ["notify_customer"]
    fields = ["brand", "notify_customer"]
