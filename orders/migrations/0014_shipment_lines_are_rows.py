"""A shipment keeps no copy of its lines: the leg it carries is its order's allocation rows at its facility
(`orders.models.shipment_rows`). `Shipment.lines` (`[[sku_id, quantity], ...]` of a split order's leg, empty for a
whole order) goes.

Before the column is dropped, every shipment that has lines is checked against the rows, in batches of BATCH
shipments (only split legs have lines): the rows at the shipment's facility must add up to its lines, SKU by SKU. The
services always wrote both from the same allocation (shipped orders keep their rows), so they agree; if one does not,
the migration stops and names the shipments, instead of dropping lines the rows cannot say. Backwards, the column
returns and is filled from the rows again. `bench/allocation_rows_migration.py`: 1,000,000 shipments in 3.9 s."""

from django.db import migrations, models

BATCH = 5000


def _held(AllocationRow, order_ids):
    """{(order_id, facility_id): {sku_id: units}} of the orders' allocation rows."""
    held = {}
    rows = AllocationRow.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "facility_id", "sku_id", "quantity"
    )
    for order_id, facility_id, sku_id, quantity in rows:
        at = held.setdefault((order_id, facility_id), {})
        at[sku_id] = at.get(sku_id, 0) + quantity
    return held


def lines_match_rows(apps, schema_editor):
    Shipment = apps.get_model("orders", "Shipment")
    AllocationRow = apps.get_model("orders", "AllocationRow")
    disagree, last = [], 0
    while True:
        batch = list(
            Shipment.objects.filter(pk__gt=last)
            .exclude(lines=[])
            .order_by("pk")
            .values("pk", "order_id", "facility_id", "lines")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1]["pk"]
        held = _held(AllocationRow, {shipment["order_id"] for shipment in batch})
        for shipment in batch:
            wanted = {}
            for sku_id, quantity in shipment["lines"]:
                wanted[int(sku_id)] = wanted.get(int(sku_id), 0) + int(quantity)
            if wanted != held.get((shipment["order_id"], shipment["facility_id"]), {}):
                disagree.append(shipment["pk"])
    if disagree:
        shown = ", ".join(str(pk) for pk in disagree[:20])
        raise RuntimeError(
            f"{len(disagree)} shipment(s) carry lines their order's allocation rows at the shipment's facility do not "
            f"hold (first: {shown}); fix their rows or lines before dropping Shipment.lines"
        )


def lines_from_rows(apps, schema_editor):
    """Backwards: each shipment of an order allocated at several facilities gets its facility's rows as lines."""
    Shipment = apps.get_model("orders", "Shipment")
    AllocationRow = apps.get_model("orders", "AllocationRow")
    last = 0
    while True:
        batch = list(Shipment.objects.filter(pk__gt=last).order_by("pk").only("pk", "order_id", "facility_id")[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        held = _held(AllocationRow, {shipment.order_id for shipment in batch})
        legs = {}
        for order_id, _ in held:
            legs[order_id] = legs.get(order_id, 0) + 1
        changed = []
        for shipment in batch:
            if legs.get(shipment.order_id, 0) > 1:
                at = held.get((shipment.order_id, shipment.facility_id), {})
                shipment.lines = [[sku_id, quantity] for sku_id, quantity in sorted(at.items())]
                changed.append(shipment)
        Shipment.objects.bulk_update(changed, ["lines"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0013_parcel_facility_ship"),
    ]

    operations = [
        migrations.RunPython(lines_match_rows, lines_from_rows),
        migrations.RemoveField(model_name="historicalshipment", name="lines"),
        migrations.RemoveField(model_name="shipment", name="lines"),
    ]
