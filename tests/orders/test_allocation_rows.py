"""Allocation rows: acceptance writes one row per order line, facility and source with its ledger event; cancelling
gives back exactly the rows' units; the check in orders catches a row that disagrees with the `allocated` bucket; the
order page and the API show the rows."""

import pytest
from rest_framework.test import APIClient

from inventory.models import Movement, StockLevel
from orders.checks import allocation_rows_check
from orders.models import AllocationRow, AllocationSource, OrderState
from orders.services import order_cancel
from tests.orders.factories import line
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db


def allocated(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility).allocated


def test_acceptance_writes_one_row_per_line_with_its_ledger_event(make_order, stock, facility):
    order = make_order(lines=(line("TEE-M", 2), line("CAP-1", 1), line("TEE-M", 3)))
    assert order.state == OrderState.ACCEPTED

    rows = list(order.allocation_rows.order_by("line__line_number"))
    assert [(r.line.line_number, r.sku.code, r.quantity, r.facility_id, r.source) for r in rows] == [
        (1, "TEE-M", 2, facility.pk, AllocationSource.STOCK),
        (2, "CAP-1", 1, facility.pk, AllocationSource.STOCK),
        (3, "TEE-M", 3, facility.pk, AllocationSource.STOCK),
    ]
    assert {r.event_id for r in rows} == {f"order:{order.pk}:allocate:1"}
    moved = Movement.objects.filter(event_id=f"order:{order.pk}:allocate:1")
    assert sorted(moved.values_list("sku__code", "quantity")) == [("CAP-1", 1), ("TEE-M", 5)]


def test_cancelling_releases_exactly_the_rows_quantities(make_order, stock, facility, operator):
    order = make_order(lines=(line("TEE-M", 2), line("CAP-1", 1)))
    rows = {(r.sku_id, r.facility_id): r.quantity for r in order.allocation_rows.all()}
    before = {code: allocated(stock[code], facility) for code in ("TEE-M", "CAP-1")}

    order = order_cancel(order=order, actor=operator, reason="customer changed their mind")

    assert order.state == OrderState.CANCELLED and not order.allocation_rows.exists()
    for code in ("TEE-M", "CAP-1"):
        sku = stock[code]
        assert allocated(sku, facility) == before[code] - rows[(sku.pk, facility.pk)]
    released = Movement.objects.filter(event_id=f"order:{order.pk}:release:1")
    assert {(m.sku_id, m.facility_id): m.quantity for m in released} == rows
    assert allocation_rows_check() == []


def test_a_corrupted_row_is_caught_by_the_check_and_named_in_an_exception(make_order, stock, facility):
    order = make_order(lines=(line("TEE-M", 2), line("CAP-1", 1)))
    assert allocation_rows_check() == []  # rows and the bucket agree
    row = order.allocation_rows.get(sku=stock["TEE-M"])
    AllocationRow.objects.filter(pk=row.pk).update(quantity=5)  # corrupted: the bucket holds 2

    (found,) = allocation_rows_check()

    assert (found.level.sku.code, found.rows_say, found.level.allocated) == ("TEE-M", 5, 2)
    item = ExceptionItem.objects.get(kind=ExceptionKind.INVENTORY_DRIFT, state=ExceptionState.OPEN)
    assert "TEE-M at VLC1" in item.summary
    assert [r["code"] for r in item.reasons] == ["allocation_row_disagrees"]
    assert item.reasons[0]["message"].startswith(f"row {row.pk}: order {order.platform_order_id} line 1, 5 × TEE-M")
    assert item.detail["rows"] == [row.pk]
    assert len(allocation_rows_check()) == 1  # a re-run refreshes the same exception
    assert ExceptionItem.objects.filter(kind=ExceptionKind.INVENTORY_DRIFT).count() == 1


def test_the_order_page_and_the_api_show_the_rows(client, make_order, make_user, facility):
    order = make_order(lines=(line("TEE-M", 2),))
    (row,) = order.allocation_rows.all()
    user = make_user("operations")

    client.force_login(user)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="allocation"' in page and f'id="allocation-{row.pk}"' in page
    assert f"order:{order.pk}:allocate:1" in page

    api = APIClient()
    api.force_authenticate(user)
    body = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert body["allocation_rows"] == [
        {
            "id": row.pk,
            "line_number": 1,
            "facility": facility.code,
            "sku": "TEE-M",
            "quantity": 2,
            "source": "stock",
            "event_id": f"order:{order.pk}:allocate:1",
        }
    ]
