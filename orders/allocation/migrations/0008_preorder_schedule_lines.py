"""Issue 16 §1: a pre-order schedule becomes a reference to an expected inbound line. Each older schedule that still
carries its own copy (no line) gets an expected inbound of one line with the same brand, facility, date, SKU and
quantity (a received one: received in full and closed), so the next migration can drop the copied fields."""

from django.db import migrations


def lines_for_old_schedules(apps, schema_editor):
    ScheduledInbound = apps.get_model("allocation", "ScheduledInbound")
    ExpectedInbound = apps.get_model("inventory", "ExpectedInbound")
    ExpectedInboundLine = apps.get_model("inventory", "ExpectedInboundLine")
    for schedule in ScheduledInbound.objects.filter(expected_line__isnull=True).order_by("pk").iterator():
        reference, n = f"PRE-{schedule.pk}", 1
        while ExpectedInbound.objects.filter(brand_id=schedule.brand_id, reference=reference).exists():
            n += 1
            reference = f"PRE-{schedule.pk}-{n}"
        inbound = ExpectedInbound.objects.create(
            brand_id=schedule.brand_id, facility_id=schedule.facility_id, kind="asn", reference=reference,
            expected_on=schedule.expected_on, source="manager", state="closed" if schedule.received else "expected",
        )  # fmt: skip
        line = ExpectedInboundLine.objects.create(
            inbound=inbound, number=1, sku_id=schedule.sku_id, quantity_expected=schedule.quantity,
            quantity_received=schedule.quantity if schedule.received else 0,
        )  # fmt: skip
        ScheduledInbound.objects.filter(pk=schedule.pk).update(expected_line=line)


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0007_scheduled_inbound_expected_line"),
        ("inventory", "0006_receiving_and_catalog_ownership"),
    ]

    operations = [migrations.RunPython(lines_for_old_schedules, migrations.RunPython.noop)]
