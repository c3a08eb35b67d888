"""`orders.0010`: the JSON `Order.allocated_lines` becomes allocation rows, per line in line order, with the contract
units (the order's `allocate_reserved` events) as rows of their own and a split order's legs at their facilities."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

BEFORE = [("orders", "0009_allocationrow")]
AFTER = [("orders", "0010_allocation_rows_from_json")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema():
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the test database ends where it began


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
