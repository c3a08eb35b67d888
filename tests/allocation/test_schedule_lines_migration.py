"""Issue 16 §1's migration, run on rows written in the old schema: a pre-order schedule that carried its own copy of
SKU, facility, date and quantity gets an expected inbound of one line with them (a received one: received in full and
closed); one already on a line keeps it; the dirty-stock trigger then reads the SKU through the line."""

import datetime as dt

import pytest

from tests.migrating import migrate, schema_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

BEFORE = [("allocation", "0007_scheduled_inbound_expected_line")]
AFTER = [("allocation", "0009_preorder_schedule_on_line")]


@pytest.fixture
def old_schema():
    yield from schema_at(BEFORE)


def test_old_schedules_become_references_to_expected_inbound_lines(old_schema):
    apps = old_schema
    Brand, Facility = apps.get_model("warehouse", "Brand"), apps.get_model("warehouse", "Facility")
    Sku, Schedule = apps.get_model("inventory", "Sku"), apps.get_model("allocation", "ScheduledInbound")
    Inbound, Line = apps.get_model("inventory", "ExpectedInbound"), apps.get_model("inventory", "ExpectedInboundLine")
    acme = Brand.objects.create(name="Acme", slug="acme")
    vlc = Facility.objects.create(code="VLC1", name="Valencia")
    tee, cap = Sku.objects.create(brand=acme, code="TEE"), Sku.objects.create(brand=acme, code="CAP")
    old = {"brand": acme, "facility": vlc}
    waiting = Schedule.objects.create(**old, sku=tee, quantity=10, preorder_limit=4, preordered=3,
                                      expected_on=dt.date(2026, 12, 20))  # fmt: skip
    # the brand already used the reference the migration would give it: the next free one is taken
    Inbound.objects.create(
        brand=acme, facility=vlc, reference=f"PRE-{waiting.pk}", expected_on=dt.date(2026, 1, 1), source="brand"
    )
    arrived = Schedule.objects.create(**old, sku=cap, quantity=6, preorder_limit=6, preordered=6, received=True,
                                      expected_on=dt.date(2026, 11, 2))  # fmt: skip
    asn = Inbound.objects.create(brand=acme, facility=vlc, reference="ASN-9", expected_on=dt.date(2026, 12, 24),
                                 source="erp")  # fmt: skip
    announced_line = Line.objects.create(inbound=asn, number=1, sku=cap, quantity_expected=8)
    announced = Schedule.objects.create(**old, sku=cap, quantity=8, preorder_limit=2, expected_on=asn.expected_on,
                                        expected_line=announced_line)  # fmt: skip

    apps = migrate(AFTER)

    Schedule = apps.get_model("allocation", "ScheduledInbound")
    rows = {s.pk: s for s in Schedule.objects.select_related("expected_line__inbound", "expected_line__sku")}
    line = rows[waiting.pk].expected_line
    assert (line.inbound.reference, line.inbound.state, line.inbound.expected_on, line.sku.code) == (
        f"PRE-{waiting.pk}-2", "expected", dt.date(2026, 12, 20), "TEE",
    )  # fmt: skip
    assert (line.quantity_expected, line.quantity_received, rows[waiting.pk].preordered) == (10, 0, 3)
    line = rows[arrived.pk].expected_line
    assert (line.inbound.state, line.quantity_expected, line.quantity_received, rows[arrived.pk].received) == (
        "closed", 6, 6, True,
    )  # fmt: skip
    assert rows[announced.pk].expected_line_id == announced_line.pk
    assert apps.get_model("inventory", "ExpectedInbound").objects.count() == 4  # 2 made

    DirtyStock = apps.get_model("publishing", "DirtyStock")
    DirtyStock.objects.all().delete()
    Schedule.objects.filter(pk=waiting.pk).update(preordered=4)
    assert list(DirtyStock.objects.values_list("sku_id", flat=True)) == [tee.pk]
