"""Fill the allocation rows from `Order.allocated_lines`, in batches of BATCH orders, each batch its own transaction
(the migration is not atomic), so a million orders never hold one huge transaction and a rerun resumes where a
failed one stopped (orders that already have rows are skipped).

`allocated_lines` is `[[sku_id, quantity], ...]` (at `Order.facility`) or `[[sku_id, quantity, facility_id], ...]` for
a split order. Each entry's units go to the order's active lines of that SKU in line order; units the order drew from
its contract (its `allocate_reserved` ledger events) are rows of source `contract`, a pre-order's other units
`preorder_claim`, the rest `stock`. The event ids follow the orders services' scheme at the order's current round:
`order:<pk>:allocate:<round>` (`:<facility code>` per leg of a split). Timed on synthetic orders by
`bench/allocation_rows_migration.py`."""

from django.db import migrations, transaction

BATCH = 5000
PREORDER_WORDS = {"preorder", "pre-order", "pre_order"}  # orders.allocation.policy.PREORDER_WORDS when written


def _events(order, facility_codes):
    """{facility_id: (stock event, reserved event, suffix)} for the order's legs."""
    entries = order["allocated_lines"] or []
    split = any(len(entry) > 2 for entry in entries)
    found = {}
    for entry in entries:
        facility_id = int(entry[2]) if len(entry) > 2 else order["facility_id"]
        suffix = f":{facility_codes.get(facility_id, '')}" if split else ""
        base = f"order:{order['pk']}:{{}}:{order['stock_round']}{suffix}"
        found[facility_id] = (base.format("allocate"), base.format("allocate_reserved"))
    return found


def rows_from_json(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    AllocationRow = apps.get_model("orders", "AllocationRow")
    Movement = apps.get_model("inventory", "Movement")
    Facility = apps.get_model("warehouse", "Facility")
    facility_codes = dict(Facility.objects.values_list("pk", "code"))
    last = 0
    while True:
        with transaction.atomic():
            batch = list(
                Order.objects.filter(pk__gt=last)
                .exclude(allocated_lines=[])
                .order_by("pk")
                .values("pk", "facility_id", "stock_round", "priority_class", "allocated_lines")[:BATCH]
            )
            if not batch:
                return
            last = batch[-1]["pk"]
            ids = [order["pk"] for order in batch]
            done = set(AllocationRow.objects.filter(order_id__in=ids).values_list("order_id", flat=True).distinct())
            lines = {}
            for line in (
                OrderLine.objects.filter(order_id__in=ids, cancelled_at__isnull=True, sku__isnull=False)
                .order_by("order_id", "line_number")
                .values("pk", "order_id", "sku_id", "quantity")
            ):
                lines.setdefault(line["order_id"], []).append(line)
            events = {order["pk"]: _events(order, facility_codes) for order in batch}
            reserved_ids = [reserved for legs in events.values() for _, reserved in legs.values()]
            drawn = {}
            for event_id, sku_id, quantity in Movement.objects.filter(event_id__in=reserved_ids).values_list(
                "event_id", "sku_id", "quantity"
            ):
                drawn[(event_id, sku_id)] = drawn.get((event_id, sku_id), 0) + quantity
            rows = []
            for order in batch:
                if order["pk"] in done:
                    continue
                preorder = (order["priority_class"] or "").strip().lower() in PREORDER_WORDS
                left = {line["pk"]: line["quantity"] or 0 for line in lines.get(order["pk"], [])}
                for entry in order["allocated_lines"] or []:
                    sku_id, want = int(entry[0]), int(entry[1])
                    facility_id = int(entry[2]) if len(entry) > 2 else order["facility_id"]
                    stock_event, reserved_event = events[order["pk"]][facility_id]
                    for line in lines.get(order["pk"], []):
                        if line["sku_id"] != sku_id or not left[line["pk"]] or not want:
                            continue
                        take = min(left[line["pk"]], want)
                        left[line["pk"]] -= take
                        want -= take
                        fenced = min(take, drawn.get((reserved_event, sku_id), 0))
                        if fenced:
                            drawn[(reserved_event, sku_id)] -= fenced
                        parts = [("contract", fenced, reserved_event)]
                        parts.append(("preorder_claim" if preorder else "stock", take - fenced, stock_event))
                        rows.extend(
                            AllocationRow(
                                order_id=order["pk"], line_id=line["pk"], facility_id=facility_id, sku_id=sku_id,
                                quantity=units, source=source, event_id=event_id,
                            )  # fmt: skip
                            for source, units, event_id in parts
                            if units
                        )
            AllocationRow.objects.bulk_create(rows, batch_size=BATCH)


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch (see the docstring)

    dependencies = [
        ("inventory", "0005_historicalsku_country_of_origin_and_more"),
        ("orders", "0009_allocationrow"),
    ]

    operations = [migrations.RunPython(rows_from_json, migrations.RunPython.noop)]
