"""The daily jobs of the reports app: the storage snapshot billing prices, and the CSV exports for other systems."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from inventory.models import Sku, StockLevel
from reports import tasks
from reports.finance.billing import storage_snapshot_take
from reports.models import StorageSnapshot
from tests.reports.seed import seed_month

pytestmark = pytest.mark.django_db


def test_the_snapshot_keeps_units_on_hand_per_brand_and_facility_and_its_last_run_of_the_day(brand):
    acme, _, facility = seed_month()
    for code, units in (("TEE-S", 40), ("TEE-L", 2)):
        StockLevel.objects.create(sku=Sku.objects.create(brand=acme, code=code), facility=facility, on_hand=units)
    day = dt.date(2026, 12, 4)

    assert storage_snapshot_take(day) == 1
    StockLevel.objects.filter(sku__code="TEE-L").update(on_hand=12)
    storage_snapshot_take(day)  # a later run the same day

    assert list(StorageSnapshot.objects.values_list("day", "brand", "facility", "units")) == [
        (day, acme.pk, facility.pk, 52)
    ]


def test_scheduled_exports_write_yesterdays_reports_with_a_timestamp(settings, tmp_path, time_machine):
    time_machine.move_to("2026-11-03 06:00:00+01:00")
    settings.STORAGES = {
        **settings.STORAGES,
        "report_exports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    seed_month()

    written = tasks.scheduled_exports(["volume", "sla"])

    assert sorted(p.split("-2026")[0] for p in written) == ["sla", "volume"]
    assert all(re.fullmatch(r"(volume|sla)-20261103-\d{6}\.csv", p) for p in written), written
    volume = (tmp_path / next(p for p in written if p.startswith("volume"))).read_text("utf-8-sig").splitlines()
    assert volume[0].startswith("Day,Brand,Channel")
    assert any(line.startswith("2026-11-02,Acme,Acme shop") for line in volume[1:])
