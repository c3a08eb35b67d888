"""`orders.0010`: the JSON `Order.allocated_lines` becomes allocation rows, per line in line order, with the contract
units (the order's `allocate_reserved` events) as rows of their own and a split order's legs at their facilities."""

import pytest
from django.db import connection
from django.utils import timezone

from tests.migrating import migrate, schema_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

BEFORE = [("orders", "0009_allocationrow")]
AFTER = [("orders", "0010_allocation_rows_from_json")]


@pytest.fixture
def old_schema():
    yield from schema_at(BEFORE)


def test_the_json_allocation_becomes_rows(old_schema):
    apps = old_schema
    Brand, Facility = apps.get_model("warehouse", "Brand"), apps.get_model("warehouse", "Facility")
    Sku, Movement = apps.get_model("inventory", "Sku"), apps.get_model("inventory", "Movement")
    Order, OrderLine = apps.get_model("orders", "Order"), apps.get_model("orders", "OrderLine")
    brand = Brand.objects.create(name="Acme", slug="acme")
    nj, nv = Facility.objects.create(code="NJ1", name="NJ"), Facility.objects.create(code="NV1", name="NV")
    tee, cap = Sku.objects.create(brand=brand, code="TEE"), Sku.objects.create(brand=brand, code="CAP")

    def order(pid, allocated, lines, **fields):
        made = Order.objects.create(brand=brand, source="file", platform_order_id=pid, facility=nj, stock_round=1,
                                    allocated_lines=allocated, **fields)  # fmt: skip
        for number, (sku, quantity) in enumerate(lines, start=1):
            OrderLine.objects.create(order=made, line_number=number, sku=sku, sku_code=sku.code, quantity=quantity)
        return made

    plain = order("P", [[tee.pk, 5], [cap.pk, 1]], [(tee, 2), (cap, 1), (tee, 3)])
    split = order("S", [[tee.pk, 2, nj.pk], [cap.pk, 1, nv.pk]], [(tee, 2), (cap, 1)])
    wholesale = order("W", [[tee.pk, 4]], [(tee, 4)], priority_class="wholesale")
    Movement.objects.create(event_id=f"order:{wholesale.pk}:allocate_reserved:1", line=1, kind="allocate_reserved",
                            sku=tee, facility=nj, quantity=3)  # fmt: skip
    preorder = order("R", [[cap.pk, 1]], [(cap, 1)], priority_class="preorder")
    order("H", [], [(tee, 1)])  # held: nothing allocated, no rows

    apps = migrate(AFTER)
    AllocationRow = apps.get_model("orders", "AllocationRow")

    def rows(made):
        return sorted(
            AllocationRow.objects.filter(order_id=made.pk).values_list(
                "line__line_number", "sku__code", "quantity", "facility__code", "source", "event_id"
            )
        )

    assert rows(plain) == [
        (1, "TEE", 2, "NJ1", "stock", f"order:{plain.pk}:allocate:1"),
        (2, "CAP", 1, "NJ1", "stock", f"order:{plain.pk}:allocate:1"),
        (3, "TEE", 3, "NJ1", "stock", f"order:{plain.pk}:allocate:1"),
    ]
    assert rows(split) == [
        (1, "TEE", 2, "NJ1", "stock", f"order:{split.pk}:allocate:1:NJ1"),
        (2, "CAP", 1, "NV1", "stock", f"order:{split.pk}:allocate:1:NV1"),
    ]
    assert rows(wholesale) == [
        (1, "TEE", 1, "NJ1", "stock", f"order:{wholesale.pk}:allocate:1"),
        (1, "TEE", 3, "NJ1", "contract", f"order:{wholesale.pk}:allocate_reserved:1"),
    ]
    assert rows(preorder) == [(1, "CAP", 1, "NJ1", "preorder_claim", f"order:{preorder.pk}:allocate:1")]
    assert AllocationRow.objects.count() == 8  # the held order has none


def test_the_set_based_sql_writes_the_rows_the_per_order_python_wrote_and_resumes(old_schema):
    """PostgreSQL's INSERT … SELECT (`ROWS_SQL`) against the per-order Python fill on both shapes of the JSON, with the
    awkward cases: one SKU on several lines and in several entries (a split's legs), a cancelled line, a contract
    draw smaller than the line, a pre-order, more JSON units than lines. Same rows in the same id order; an order that
    already has rows is left alone (a rerun resumes)."""
    import importlib

    migration = importlib.import_module("orders.migrations.0010_allocation_rows_from_json")
    apps = old_schema
    Brand, Facility = apps.get_model("warehouse", "Brand"), apps.get_model("warehouse", "Facility")
    Sku, Movement = apps.get_model("inventory", "Sku"), apps.get_model("inventory", "Movement")
    Order, OrderLine = apps.get_model("orders", "Order"), apps.get_model("orders", "OrderLine")
    AllocationRow = apps.get_model("orders", "AllocationRow")
    brand = Brand.objects.create(name="Acme", slug="acme")
    nj, nv = Facility.objects.create(code="NJ1", name="NJ"), Facility.objects.create(code="NV1", name="NV")
    tee, cap = Sku.objects.create(brand=brand, code="TEE"), Sku.objects.create(brand=brand, code="CAP")

    def order(pid, allocated, lines, stock_round=2, **fields):
        made = Order.objects.create(brand=brand, source="file", platform_order_id=pid, facility=nj,
                                    stock_round=stock_round, allocated_lines=allocated, **fields)  # fmt: skip
        for number, (sku, quantity, *cancelled) in enumerate(lines, start=1):
            OrderLine.objects.create(order=made, line_number=number, sku=sku, sku_code=sku.code, quantity=quantity,
                                     cancelled_at=timezone.now() if cancelled else None)  # fmt: skip
        return made

    def drew(made, suffix, sku, quantity, line=1):
        Movement.objects.create(event_id=f"order:{made.pk}:allocate_reserved:2{suffix}", line=line,
                                kind="allocate_reserved", sku=sku, facility=nj, quantity=quantity)  # fmt: skip

    order("P", [[tee.pk, 5], [cap.pk, 1]], [(tee, 2), (cap, 1), (tee, 3)])
    order("C", [[tee.pk, 3]], [(tee, 2, "cancelled"), (tee, 3)])
    order("X", [[tee.pk, 9]], [(tee, 2), (tee, 3)])  # more units in the JSON than on the lines
    split = order("S", [[tee.pk, 3, nj.pk], [cap.pk, 1, nv.pk], [tee.pk, 4, nv.pk]], [(tee, 5), (cap, 1), (tee, 2)])
    wholesale = order("W", [[tee.pk, 4], [cap.pk, 2]], [(tee, 1), (tee, 3), (cap, 2)], priority_class="wholesale")
    drew(wholesale, "", tee, 2)
    drew(wholesale, "", tee, 1, line=2)
    wsplit = order("WS", [[tee.pk, 2, nj.pk], [tee.pk, 3, nv.pk]], [(tee, 5)], priority_class="wholesale")
    drew(wsplit, ":NV1", tee, 2)
    order("R", [[cap.pk, 2]], [(cap, 2)], priority_class=" Pre-Order ")
    order("H", [], [(tee, 1)])
    done = order("D", [[tee.pk, 1]], [(tee, 1)])
    AllocationRow.objects.create(order=done, line=done.lines.get(), facility=nv, sku=tee, quantity=1, source="stock",
                                 event_id="kept")  # fmt: skip

    def fill(how):
        with connection.schema_editor(atomic=False) as editor:
            how(apps, editor)
        found = list(
            AllocationRow.objects.order_by("id").values_list(
                "order__platform_order_id",
                "line__line_number",
                "sku__code",
                "quantity",
                "facility__code",
                "source",
                "event_id",
            )
        )
        AllocationRow.objects.exclude(order=done).delete()
        return found

    by_sql, by_python = fill(migration.rows_from_json), fill(migration.rows_from_json_python)
    assert by_sql == by_python
    assert ("D", 1, "TEE", 1, "NV1", "stock", "kept") in by_sql and len([r for r in by_sql if r[0] == "D"]) == 1
    assert [r[1:] for r in by_sql if r[0] == "S"] == [
        (1, "TEE", 3, "NJ1", "stock", f"order:{split.pk}:allocate:2:NJ1"),
        (2, "CAP", 1, "NV1", "stock", f"order:{split.pk}:allocate:2:NV1"),
        (1, "TEE", 2, "NV1", "stock", f"order:{split.pk}:allocate:2:NV1"),
        (3, "TEE", 2, "NV1", "stock", f"order:{split.pk}:allocate:2:NV1"),
    ]
    assert [r[1:] for r in by_sql if r[0] == "WS"] == [
        (1, "TEE", 2, "NJ1", "stock", f"order:{wsplit.pk}:allocate:2:NJ1"),
        (1, "TEE", 2, "NV1", "contract", f"order:{wsplit.pk}:allocate_reserved:2:NV1"),
        (1, "TEE", 1, "NV1", "stock", f"order:{wsplit.pk}:allocate:2:NV1"),
    ]
    assert [r[1:4] + r[5:6] for r in by_sql if r[0] == "W"] == [
        (1, "TEE", 1, "contract"), (2, "TEE", 2, "contract"), (2, "TEE", 1, "stock"), (3, "CAP", 2, "stock"),
    ]  # fmt: skip
    assert {r[5] for r in by_sql if r[0] == "R"} == {"preorder_claim"}
    assert sum(r[3] for r in by_sql if r[0] == "X") == 5 and not [r for r in by_sql if r[0] == "H"]
