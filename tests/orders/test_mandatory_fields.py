"""Mandatory fields (seed 001): order id, SKU that maps to the catalog, positive integer quantity, street, ZIP, city,
country and contact phone. If any is missing or ambiguous the order is held with every reason named, nothing is
allocated, and the queue carries the same reasons until the data is fixed."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import StockLevel
from inventory.services import sku_change_code
from orders.canonical import CanonicalAddress
from orders.models import Order, OrderEventKind, OrderState
from orders.selectors import order_timeline
from orders.services import order_accept, order_edit, order_ingest
from orders.validation import quantity_parse
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku
from warehouse.errors import InvalidInput
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db


def reason_codes(order):
    return sorted(r["code"] for r in order.hold_reasons)


def exception_of(order, kind=ExceptionKind.ORDER_ON_HOLD, state=ExceptionState.OPEN):
    return ExceptionItem.objects.get(object_id=order.pk, kind=kind, state=state)


def assert_nothing_allocated(facility):
    assert not StockLevel.objects.filter(facility=facility, allocated__gt=0).exists()


@pytest.mark.parametrize(
    "quantity",
    [
        0,
        -1,
        2**63,
        pytest.param(10**5000, id="ten-to-5000"),
        "1e309",
        float("nan"),
        float("inf"),
        1.5,
        2.0,
        "2.0",
        "",
        None,
        True,
        "abc",
        " -3 ",
    ],
)
def test_quantity_must_be_a_positive_integer_else_the_order_is_held(make_order, facility, quantity):
    order = make_order(lines=(line("TEE-M", quantity),))
    assert order.state == OrderState.ON_HOLD
    assert reason_codes(order) == ["quantity_invalid"]
    assert "line 1" in order.hold_reasons[0]["message"]
    assert order.lines.get().quantity is None
    assert_nothing_allocated(facility)
    item = exception_of(order)
    assert item.reasons == order.hold_reasons


@pytest.mark.parametrize(("raw", "parsed"), [(1, 1), (7, 7), ("3", 3), (" 12 ", 12), ("+4", 4), (100_000, 100_000)])
def test_a_positive_whole_number_is_a_quantity(raw, parsed):
    assert quantity_parse(raw) == parsed


def test_quantity_received_is_kept_as_received_for_support(make_order):
    order = make_order(lines=(line("TEE-M", "1e309"),))
    assert order.lines.get().quantity_received == "1e309"


def test_unknown_sku_holds_the_order_naming_the_code(make_order, facility):
    order = make_order(lines=(line("TEE-M", 1), line("GHOST-9", 1)))
    assert order.state == OrderState.ON_HOLD
    assert reason_codes(order) == ["unknown_sku"]
    assert "GHOST-9" in order.hold_reasons[0]["message"]
    assert "line 2" in order.hold_reasons[0]["message"]
    assert_nothing_allocated(facility)


def test_sku_resolves_through_an_alias_inside_its_window(make_order, stock, facility):
    sku_change_code(sku=stock["TEE-M"], new_code="TEE-M-V2", actor=None)
    order = make_order(lines=(line("TEE-M", 2),))  # the old code
    assert order.state == OrderState.ACCEPTED
    assert order.lines.get().sku_id == stock["TEE-M"].pk


def test_an_expired_alias_holds_the_order_naming_the_new_code(make_order, stock):
    alias = sku_change_code(sku=stock["TEE-M"], new_code="TEE-M-V2", actor=None, window=dt.timedelta(days=30))
    alias.valid_from = timezone.now() - dt.timedelta(days=31)
    alias.valid_until = timezone.now() - dt.timedelta(days=1)
    alias.save()
    order = make_order(lines=(line("TEE-M", 1),))
    assert reason_codes(order) == ["alias_expired"]
    assert "TEE-M-V2" in order.hold_reasons[0]["message"]


def test_missing_zip_holds_the_order(make_order, facility):
    order = make_order(address=CanonicalAddress(street1="Carrer Major 1", city="Valencia", country="ES"))
    assert order.state == OrderState.ON_HOLD
    assert reason_codes(order) == ["postal_code_missing"]
    assert_nothing_allocated(facility)


def test_every_failed_reason_is_named_not_just_the_first(make_order, facility):
    order = make_order(
        address=CanonicalAddress(country="Spain"),
        phone="",
        lines=(line("TEE-M", 0), line("GHOST-1", -1), line("", 2)),
    )
    assert order.state == OrderState.ON_HOLD
    assert reason_codes(order) == sorted(
        [
            "quantity_invalid",  # line 1
            "unknown_sku",  # line 2
            "quantity_invalid",  # line 2
            "sku_missing",  # line 3
            "street_missing",
            "postal_code_missing",
            "city_missing",
            "country_invalid",
            "phone_missing",
        ]
    )
    assert_nothing_allocated(facility)
    assert exception_of(order).reasons == order.hold_reasons
    held = order_timeline(order=order).get(kind=OrderEventKind.HELD)
    assert "no contact phone" in held.message and "no city" in held.message


def test_an_implausible_phone_holds_the_order(make_order):
    order = make_order(phone="call me")
    assert reason_codes(order) == ["phone_invalid"]


def test_an_order_without_lines_is_held(make_order):
    order = make_order(lines=())
    assert reason_codes(order) == ["lines_missing"]


def test_an_order_without_an_order_id_is_refused_at_the_door(brand, stock):
    with pytest.raises(InvalidInput) as refused:
        order_ingest(canonical=CanonicalOrderFactory(platform_order_id="  ", lines=(line("TEE-M"),)), brand=brand)
    assert refused.value.reasons[0].code == "order_id_missing"
    assert not Order.objects.exists()


def test_fixing_the_data_revalidates_the_order_and_closes_its_exception(make_order, order_manager, stock, facility):
    order = make_order(address=CanonicalAddress(street1="Carrer Major 1", city="Valencia", country="ES"), phone="")
    assert reason_codes(order) == ["phone_missing", "postal_code_missing"]
    order = order_edit(order=order, actor=order_manager, address={"postal_code": "46001"})
    assert order.state == OrderState.ON_HOLD
    assert reason_codes(order) == ["phone_missing"]
    assert exception_of(order).reasons == order.hold_reasons  # the queue says what is wrong now
    order = order_edit(order=order, actor=order_manager, phone="+34 600 000 001")
    assert order.state == OrderState.ACCEPTED
    assert order.hold_reasons == []
    assert exception_of(order, state=ExceptionState.RESOLVED).decision_note
    assert StockLevel.objects.get(sku=stock["TEE-M"], facility=facility).allocated == 2


def test_fixing_a_line_with_an_unknown_sku_moves_the_order_on(make_order, order_manager):
    order = make_order(lines=(line("GHOST", 1),))
    order = order_edit(order=order, actor=order_manager, lines=[("CAP-1", 1)])
    assert order.state == OrderState.ACCEPTED


# --- acceptance needs complete allocation ---------------------------------------------------------------------------


def test_a_short_order_is_held_and_never_half_accepted(make_order, stock, facility):
    order = make_order(lines=(line("TEE-M", 2), line("CAP-1", 4)))  # only 3 caps
    assert order.state == OrderState.ON_HOLD
    assert reason_codes(order) == ["short"]
    assert "CAP-1" in order.hold_reasons[0]["message"]
    assert_nothing_allocated(facility)
    item = exception_of(order, kind=ExceptionKind.ORDER_SHORT)
    assert item.reasons[0]["code"] == "short"
    assert not order.allocation_rows.exists()


def test_a_short_order_is_accepted_once_stock_arrives(make_order, brand, stock, facility, operator):
    order = make_order(lines=(line("CAP-1", 5),))
    assert order.state == OrderState.ON_HOLD
    from inventory.services import stock_receive

    stock_receive(sku=stock["CAP-1"], facility=facility, quantity=5, event_id="rcv-more-caps", actor=None)
    order = order_accept(order=order, actor=operator)
    assert order.state == OrderState.ACCEPTED
    assert exception_of(order, kind=ExceptionKind.ORDER_SHORT, state=ExceptionState.RESOLVED)
    assert StockLevel.objects.get(sku=stock["CAP-1"], facility=facility).allocated == 5


def test_a_kit_order_allocates_its_components_never_a_phantom_kit(brand, facility, make_order):
    from inventory.models import KitComponent
    from tests.inventory.factories import KitFactory

    comb = stocked_sku(brand=brand, facility=facility, code="COMB", units=4)
    brush = stocked_sku(brand=brand, facility=facility, code="BRUSH", units=4)
    kit = KitFactory(brand=brand, code="GROOM-KIT")
    KitComponent.objects.create(kit=kit, component=comb, quantity=1)
    KitComponent.objects.create(kit=kit, component=brush, quantity=2)
    order = make_order(lines=(line("GROOM-KIT", 2),))
    assert order.state == OrderState.ACCEPTED
    assert StockLevel.objects.get(sku=comb, facility=facility).allocated == 2
    assert StockLevel.objects.get(sku=brush, facility=facility).allocated == 4
    assert not StockLevel.objects.filter(sku=kit).exists()
