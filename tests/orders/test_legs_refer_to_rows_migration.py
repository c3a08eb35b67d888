"""`orders.0014` and `allocation.0010`: shipments and route legs stop repeating the allocation. A shipment's lines are
checked against its order's rows at its facility before the column goes (and come back from the rows backwards); a
route's legs lose their `"lines"` and keep the facilities in leg order."""

import importlib
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.migrating import migrate, schema_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

BEFORE = [("orders", "0013_parcel_facility_ship"), ("allocation", "0009_preorder_schedule_on_line")]
AFTER = [("orders", "0014_shipment_lines_are_rows"), ("allocation", "0010_route_legs_without_lines")]


@pytest.fixture
def old_schema():
    yield from schema_at(BEFORE)


def world(apps):
    Brand, Facility = apps.get_model("warehouse", "Brand"), apps.get_model("warehouse", "Facility")
    Sku = apps.get_model("inventory", "Sku")
    Order, OrderLine = apps.get_model("orders", "Order"), apps.get_model("orders", "OrderLine")
    AllocationRow = apps.get_model("orders", "AllocationRow")
    brand = Brand.objects.create(name="Acme", slug="acme")
    nj, nv = Facility.objects.create(code="NJ1", name="NJ"), Facility.objects.create(code="NV1", name="NV")
    tee, cap = Sku.objects.create(brand=brand, code="TEE"), Sku.objects.create(brand=brand, code="CAP")

    def order(pid, lines, *rows):
        made = Order.objects.create(brand=brand, source="file", platform_order_id=pid, facility=nj, state="packed")
        made_lines = [
            OrderLine.objects.create(order=made, line_number=n, sku=sku, sku_code=sku.code, quantity=q)
            for n, (sku, q) in enumerate(lines, start=1)
        ]
        for line_number, facility, sku, quantity, source in rows:
            AllocationRow.objects.create(order=made, line=made_lines[line_number - 1], facility=facility, sku=sku,
                                         quantity=quantity, source=source, event_id=f"e:{pid}")  # fmt: skip
        return made

    return SimpleNamespace(brand=brand, nj=nj, nv=nv, tee=tee, cap=cap, order=order)


def test_shipment_lines_give_way_to_the_rows_and_come_back_from_them(old_schema):
    apps = old_schema
    w = world(apps)
    Shipment = apps.get_model("orders", "Shipment")
    split = w.order("S", [(w.tee, 3), (w.cap, 1)], (1, w.nj, w.tee, 1, "contract"), (1, w.nj, w.tee, 2, "stock"),
                    (2, w.nv, w.cap, 1, "stock"))  # fmt: skip
    whole = w.order("W", [(w.tee, 1)], (1, w.nj, w.tee, 1, "stock"))
    ship = {
        "nj": Shipment.objects.create(order=split, facility=w.nj, lines=[[w.tee.pk, 3]], carrier="UPS"),
        "nv": Shipment.objects.create(order=split, facility=w.nv, lines=[[w.cap.pk, 1]], carrier="UPS"),
        "whole": Shipment.objects.create(order=whole, facility=w.nj, lines=[], carrier="UPS"),
    }

    apps = migrate(AFTER)
    assert "lines" not in {f.name for f in apps.get_model("orders", "Shipment")._meta.get_fields()}
    from orders.models import Shipment as Live
    from orders.models import shipment_platform_lines

    assert Live.objects.get(pk=ship["nj"].pk).lines == [[w.tee.pk, 3]]  # from the rows now
    assert Live.objects.get(pk=ship["nv"].pk).lines == [[w.cap.pk, 1]]
    assert Live.objects.get(pk=ship["whole"].pk).lines == []
    assert [p["quantity"] for p in shipment_platform_lines(Live.objects.get(pk=ship["nj"].pk))] == [3]

    apps = migrate(BEFORE)  # backwards: the column returns, filled from the rows
    Shipment = apps.get_model("orders", "Shipment")
    assert {s.pk: s.lines for s in Shipment.objects.all()} == {
        ship["nj"].pk: [[w.tee.pk, 3]], ship["nv"].pk: [[w.cap.pk, 1]], ship["whole"].pk: [],
    }  # fmt: skip


def test_a_shipment_whose_lines_the_rows_do_not_hold_stops_the_migration_by_name(old_schema):
    apps = old_schema
    w = world(apps)
    Shipment = apps.get_model("orders", "Shipment")
    split = w.order("S", [(w.tee, 2), (w.cap, 1)], (1, w.nj, w.tee, 2, "stock"), (2, w.nv, w.cap, 1, "stock"))
    Shipment.objects.create(order=split, facility=w.nj, lines=[[w.tee.pk, 2]], carrier="UPS")
    wrong = Shipment.objects.create(order=split, facility=w.nv, lines=[[w.cap.pk, 2]], carrier="UPS")

    with pytest.raises(RuntimeError, match=rf"1 shipment\(s\).*first: {wrong.pk}\)"):
        migrate(AFTER)
    assert Shipment.objects.get(pk=wrong.pk).lines == [[w.cap.pk, 2]]  # nothing dropped
    wrong.delete()


def test_route_legs_keep_their_facilities_in_order_and_lose_their_lines_in_batches(old_schema, monkeypatch):
    apps = old_schema
    w = world(apps)
    OrderRoute = apps.get_model("allocation", "OrderRoute")
    now = timezone.now()

    def route(pid, legs):
        order = w.order(pid, [(w.tee, 1)])
        return OrderRoute.objects.create(order=order, brand=w.brand, legs=legs, decided_at=now)

    nv_leg = {"facility": "NV1", "facility_id": w.nv.pk, "lines": [[w.cap.pk, 1]]}
    nj_leg = {"facility": "NJ1", "facility_id": w.nj.pk, "lines": [[w.tee.pk, 2]]}
    split = route("S", [nv_leg, nj_leg])
    single = route("O", [nj_leg])
    short = route("H", [])
    done = route("D", [{"facility": "NJ1", "facility_id": w.nj.pk}])
    migration = importlib.import_module("orders.allocation.migrations.0010_route_legs_without_lines")
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches

    migrate(AFTER)
    legs = dict(OrderRoute.objects.values_list("pk", "legs"))
    assert legs == {
        split.pk: [{"facility": "NV1", "facility_id": w.nv.pk}, {"facility": "NJ1", "facility_id": w.nj.pk}],
        single.pk: [{"facility": "NJ1", "facility_id": w.nj.pk}],
        short.pk: [],
        done.pk: [{"facility": "NJ1", "facility_id": w.nj.pk}],
    }

    OrderRoute.objects.filter(pk=split.pk).update(legs=[nv_leg, nj_leg])  # the other databases' path, same result
    sqlite_like = SimpleNamespace(connection=SimpleNamespace(vendor="sqlite", alias="default"))
    migration.legs_without_lines(apps, sqlite_like)
    assert OrderRoute.objects.get(pk=split.pk).legs == legs[split.pk]
