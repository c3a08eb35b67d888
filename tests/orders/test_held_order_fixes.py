"""Issue 10 §2: a held order is fixable to the end. A manager edits a line's SKU code (or maps the unknown code to a
SKU with an alias and its window) and quantity, cancels one line with a reason, and re-checks; a forced validation
overrides the data reasons it names and is never held again for them; a field a person fixed is not overwritten by a
later platform update, which waits for the person's decision instead."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import SkuAlias, StockLevel
from inventory.selectors import sku_candidates
from inventory.services import sku_alias_create, stock_receive
from orders.canonical import CanonicalAddress
from orders.models import Order, OrderEvent, OrderLine, OrderState
from orders.services import (
    order_accept,
    order_conflict_decide,
    order_edit,
    order_force,
    order_ingest,
    order_line_cancel,
    order_line_edit,
    order_recheck,
)
from tests.conftest import grant
from tests.factories import UserFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import T0, CanonicalOrderFactory, line
from warehouse.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixer(order_manager):
    return grant(order_manager, "inventory.add_skualias")


def exceptions(order, kind=None, state=None):
    found = ExceptionItem.objects.filter(object_id=order.pk, content_type__model="order")
    if kind is not None:
        found = found.filter(kind=kind)
    if state is not None:
        found = found.filter(state=state)
    return list(found)


def written(order):
    """What a refused call must leave untouched: the order row, its lines, its timeline, the queue and aliases."""
    order = Order.objects.get(pk=order.pk)
    lines = list(OrderLine.objects.filter(order=order).values_list("sku_code", "quantity", "cancelled_at"))
    return (
        order.state,
        order.updated_at,
        lines,
        OrderEvent.objects.filter(order=order).count(),
        ExceptionItem.objects.count(),
        SkuAlias.objects.count(),
    )


@pytest.fixture
def held(make_order):
    """Held: line 1 carries a code the catalog does not know, line 2 quantity 0."""
    order = make_order(lines=(line("TEE-MED", 2), line("CAP-1", 0)))
    assert order.state == OrderState.ON_HOLD
    return order


# --- aliases and candidates -----------------------------------------------------------------------------------------


def test_candidates_offer_skus_whose_code_alias_or_barcode_looks_like_the_unknown_code(brand, stock):
    found = [c.sku.code for c in sku_candidates(brand=brand, code="tee-med")]
    assert found[0] == "TEE-M"
    assert "CAP-1" not in found
    assert sku_candidates(brand=brand, code="tee m")[0].sku.code == "TEE-M"
    barcode = stock["CAP-1"].barcodes.first().value
    by_barcode = sku_candidates(brand=brand, code=barcode)
    assert by_barcode[0].sku.code == "CAP-1" and by_barcode[0].via == "barcode"


def test_candidates_never_cross_brands(brand, other_brand, stock):
    SkuFactory(brand=other_brand, code="TEE-MED")
    assert all(c.sku.brand_id == brand.pk for c in sku_candidates(brand=brand, code="TEE-MED"))


def test_an_alias_needs_the_permission_before_anything_is_checked_or_written(brand, stock, operator):
    with pytest.raises(NotPermitted):
        sku_alias_create(brand=brand, code="", sku=stock["TEE-M"], actor=operator)
    assert not SkuAlias.objects.exists()


def test_an_alias_with_its_window_is_created_and_resolves(brand, stock, fixer):
    start = timezone.now()
    alias = sku_alias_create(
        brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=fixer, valid_from=start,
        valid_until=start + dt.timedelta(days=10),
    )  # fmt: skip
    assert (alias.code, alias.sku, alias.valid_until - alias.valid_from) == (
        "TEE-MED",
        stock["TEE-M"],
        dt.timedelta(10),
    )
    assert alias.history.first().history_user == fixer


@pytest.mark.parametrize(
    ("code", "window_days", "error"),
    [
        ("TEE-M", 30, Conflict),  # a catalog code
        ("", 30, InvalidInput),
        ("X" * 101, 30, InvalidInput),  # refused, never cut short
        ("TEE-MED", 0, InvalidInput),  # empty window
    ],
)
def test_a_bad_alias_is_refused_and_nothing_is_saved(brand, stock, fixer, code, window_days, error):
    start = timezone.now()
    with pytest.raises(error):
        sku_alias_create(
            brand=brand, code=code, sku=stock["TEE-M"], actor=fixer, valid_from=start,
            valid_until=start + dt.timedelta(days=window_days),
        )  # fmt: skip
    assert not SkuAlias.objects.exists()


def test_an_alias_in_use_is_never_re_pointed(brand, stock, fixer):
    sku_alias_create(brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=fixer)
    with pytest.raises(Conflict, match="already an alias of TEE-M"):
        sku_alias_create(brand=brand, code="TEE-MED", sku=stock["CAP-1"], actor=fixer)
    assert SkuAlias.objects.get(code="TEE-MED").sku == stock["TEE-M"]


# --- line fixes -------------------------------------------------------------------------------------------------------


def test_a_held_order_is_fixed_through_an_alias_and_a_quantity_and_accepted(held, brand, stock, fixer, facility):
    sku_alias_create(brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=fixer)
    order = order_line_edit(order=held, line_number=2, actor=fixer, quantity="1")
    assert order.state == OrderState.ACCEPTED
    order.refresh_from_db()
    assert order.allocated_stock() == sorted([[stock["TEE-M"].pk, 2], [stock["CAP-1"].pk, 1]])
    assert StockLevel.objects.get(sku=stock["TEE-M"], facility=facility).allocated == 2
    (exception,) = exceptions(order)  # the one on-hold exception, closed by the fix; none opened again
    assert exception.state == ExceptionState.RESOLVED
    assert OrderLine.objects.get(order=order, line_number=1).sku_code == "TEE-MED"  # kept as received
    assert "Line 2 edited: quantity 0 → 1" in [e.message for e in order.events.all()]


def test_a_line_s_sku_code_is_replaced_by_a_catalog_code(held, fixer):
    order_line_edit(order=held, line_number=1, actor=fixer, sku_code="TEE-M")
    order = order_line_edit(order=held, line_number=2, actor=fixer, quantity=1)
    assert order.state == OrderState.ACCEPTED
    assert OrderLine.objects.get(order=order, line_number=1).sku_code == "TEE-M"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sku_code": "NOPE-1"}, "not in Acme Apparel's catalog: choose an offered SKU or create an alias"),
        ({"sku_code": "  "}, "Give the line's SKU code"),
        ({"sku_code": "X" * 101}, "over 100 characters"),
        ({"quantity": "0"}, "whole number from 1"),
        ({"quantity": "two"}, "whole number from 1"),
        ({"quantity": "100001"}, "whole number from 1"),
        ({"line_number": 9, "quantity": "1"}, "no open line 9"),
    ],
)
def test_bad_line_input_is_refused_with_a_clear_error_and_nothing_is_saved(held, fixer, kwargs, message):
    before = written(held)
    kwargs = {"line_number": 1, **kwargs}
    with pytest.raises((InvalidInput, Conflict), match=message):
        order_line_edit(order=held, actor=fixer, **kwargs)
    assert written(held) == before


def test_line_fixes_need_the_change_permission_before_any_side_effect(held, operator):
    before = written(held)
    with pytest.raises(NotPermitted):
        order_line_edit(order=held, line_number=2, actor=operator, quantity="1")
    with pytest.raises(NotPermitted):
        order_line_cancel(order=held, line_number=2, actor=operator, reason="Out of range")
    with pytest.raises(NotPermitted):
        order_recheck(order=held, actor=operator)
    assert written(held) == before


def test_a_cancelled_line_is_kept_visible_and_the_order_moves_on_without_it(held, brand, stock, fixer):
    sku_alias_create(brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=fixer)
    order = order_line_cancel(order=held, line_number=2, actor=fixer, reason="The customer dropped the cap")
    assert order.state == OrderState.ACCEPTED
    order.refresh_from_db()
    assert order.allocated_stock() == [[stock["TEE-M"].pk, 2]]
    cancelled = OrderLine.objects.get(order=order, line_number=2)
    assert cancelled.cancelled_at is not None and cancelled.cancel_reason == "The customer dropped the cap"
    assert OrderLine.objects.filter(order=order).count() == 2


def test_the_last_line_is_never_cancelled_and_a_long_reason_is_refused(make_order, fixer):
    order = make_order(lines=(line("TEE-MED", 1),))
    before = written(order)
    with pytest.raises(Conflict, match="last line"):
        order_line_cancel(order=order, line_number=1, actor=fixer, reason="Gone")
    with pytest.raises(InvalidInput, match="at most 300"):
        order_line_cancel(order=order, line_number=1, actor=fixer, reason="x" * 301)
    assert written(order) == before


def test_lines_are_not_edited_after_release_to_pick(accepted_order, fixer):
    from orders.services import order_release_to_pick

    order = order_release_to_pick(order=accepted_order, actor=None)
    before = written(order)
    with pytest.raises(Conflict, match="released to pick"):
        order_line_edit(order=order, line_number=1, actor=fixer, quantity="5")
    assert written(order) == before


def test_a_recheck_accepts_an_order_whose_code_now_resolves(make_order, brand, stock, fixer):
    order = make_order(lines=(line("TEE-MED", 1),))
    sku_alias_create(brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=fixer)
    assert order_recheck(order=order, actor=fixer).state == OrderState.ACCEPTED
    with pytest.raises(TransitionNotAllowed, match="only a held order"):
        order_recheck(order=order, actor=fixer)


# --- forced validation --------------------------------------------------------------------------------------------


@pytest.fixture
def no_zip(make_order):
    order = make_order(address=CanonicalAddress(street1="Calle 1", city="Valencia", country="ES"))
    assert order.state == OrderState.ON_HOLD
    assert [r["code"] for r in order.hold_reasons] == ["postal_code_missing"]
    return order


def test_a_forced_validation_accepts_and_resolves_the_one_on_hold_exception(no_zip, order_manager):
    order = order_force(order=no_zip, name="validate", actor=order_manager, reason="Rural address, no ZIP")
    assert order.state == OrderState.ACCEPTED
    order.refresh_from_db()
    assert [r["code"] for r in order.forced_past] == ["postal_code_missing"]
    (exception,) = exceptions(order)
    assert exception.state == ExceptionState.RESOLVED
    assert exception.decision_note == "Forced: Rural address, no ZIP"


def test_a_forced_order_short_of_stock_waits_in_the_one_short_exception_and_is_never_held_for_the_zip_again(
    make_order, brand, stock, facility, order_manager, operator
):
    order = make_order(
        lines=(line("CAP-1", 5),), address=CanonicalAddress(street1="Calle 1", city="Valencia", country="ES")
    )
    order = order_force(order=order, name="validate", actor=order_manager, reason="Rural address, no ZIP")
    assert order.state == OrderState.ON_HOLD
    assert [r["code"] for r in order.hold_reasons] == ["short"]
    assert len(exceptions(order, state=ExceptionState.OPEN)) == 1
    assert exceptions(order, kind=ExceptionKind.ORDER_SHORT, state=ExceptionState.OPEN)
    order = order_accept(order=order, actor=operator)  # a retry before stock: still short, same exception
    assert [r["code"] for r in order.hold_reasons] == ["short"]
    assert len(exceptions(order)) == 2  # the resolved on-hold one and the open short one
    stock_receive(sku=stock["CAP-1"], facility=facility, quantity=5, event_id="rcv:more", actor=None)
    order = order_accept(order=order, actor=operator)
    assert order.state == OrderState.ACCEPTED
    assert not exceptions(order, state=ExceptionState.OPEN)


def test_a_forced_validation_is_held_again_when_other_data_goes_wrong(no_zip, order_manager):
    order_force(order=no_zip, name="validate", actor=order_manager, reason="Rural address, no ZIP")
    order = order_edit(order=no_zip, actor=order_manager, phone="")
    assert order.state == OrderState.ON_HOLD
    assert [r["code"] for r in order.hold_reasons] == ["phone_missing"]  # the ZIP stays overridden


def test_a_line_the_warehouse_cannot_allocate_is_never_forced_past(held, order_manager):
    before = written(held)
    with pytest.raises(TransitionNotAllowed, match="Fix the line or cancel it"):
        order_force(order=held, name="validate", actor=order_manager, reason="Ship it")
    assert written(held) == before


def test_a_forced_validation_keeps_the_sku_an_alias_made_since_the_hold_resolves_to(make_order, brand, stock, fixer):
    order = make_order(
        lines=(line("TEE-MED", 1),), address=CanonicalAddress(street1="Calle 1", city="Valencia", country="ES")
    )
    sku_alias_create(brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=fixer)
    order = order_force(order=order, name="validate", actor=fixer, reason="Rural address, no ZIP")
    assert order.state == OrderState.ACCEPTED
    assert OrderLine.objects.get(order=order).sku == stock["TEE-M"]  # stored, for picking and the channel's lines


def test_forcing_needs_the_force_permission_first(no_zip, fixer, operator):
    before = written(no_zip)
    with pytest.raises(NotPermitted):
        order_force(order=no_zip, name="validate", actor=operator, reason="Ship it")
    assert written(no_zip) == before


# --- a person's fix against a later platform update -----------------------------------------------------------------


def _update(order, brand, **kwargs):
    kwargs.setdefault("lines", (line("TEE-M", 2), line("CAP-1", 1)))
    canonical = CanonicalOrderFactory(platform_order_id=order.platform_order_id, **kwargs)
    return order_ingest(canonical=canonical, brand=brand, source="manual").order


def test_the_platform_resending_what_it_sent_before_a_fix_changes_nothing(accepted_order, brand, order_manager):
    order_edit(order=accepted_order, actor=order_manager, phone="+34 600 999 999")
    order = _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=1), email="new@example.com")
    order.refresh_from_db()
    assert order.contact_phone == "+34 600 999 999" and order.email == "new@example.com"
    assert order.platform_conflicts == {}
    assert not exceptions(order, kind=ExceptionKind.ORDER_UPDATE_CONFLICT)


def test_a_platform_change_to_a_fixed_field_waits_for_the_person_and_opens_one_exception(
    accepted_order, brand, order_manager
):
    order_edit(order=accepted_order, actor=order_manager, phone="+34 600 999 999")
    _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=1), phone="+34 611 000 000")
    order = _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=2), phone="+34 611 000 000")
    order.refresh_from_db()
    assert order.contact_phone == "+34 600 999 999"
    assert order.platform_conflicts == {"contact_phone": "+34 611 000 000"}
    (exception,) = exceptions(order, kind=ExceptionKind.ORDER_UPDATE_CONFLICT)
    assert "+34" not in exception.summary  # names the field, not the customer's data
    order = order_conflict_decide(order=order, field="contact_phone", decision="platform", actor=order_manager)
    order.refresh_from_db()
    assert order.contact_phone == "+34 611 000 000" and order.platform_conflicts == {}
    assert order.state == OrderState.ACCEPTED
    assert exceptions(order, kind=ExceptionKind.ORDER_UPDATE_CONFLICT)[0].state == ExceptionState.RESOLVED


def test_keeping_ours_stops_the_same_platform_value_from_conflicting_again(accepted_order, brand, order_manager):
    order_edit(order=accepted_order, actor=order_manager, phone="+34 600 999 999")
    order = _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=1), phone="+34 611 000 000")
    order_conflict_decide(order=order, field="contact_phone", decision="ours", actor=order_manager)
    order = _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=2), phone="+34 611 000 000")
    order.refresh_from_db()
    assert order.contact_phone == "+34 600 999 999" and order.platform_conflicts == {}
    assert [x.state for x in exceptions(order, kind=ExceptionKind.ORDER_UPDATE_CONFLICT)] == [ExceptionState.RESOLVED]


def test_fixed_lines_are_not_overwritten_and_the_platform_s_lines_can_be_taken(held, brand, stock, fixer):
    order_line_edit(order=held, line_number=1, actor=fixer, sku_code="TEE-M")
    order = order_line_edit(order=held, line_number=2, actor=fixer, quantity="1")
    assert order.state == OrderState.ACCEPTED
    same = (line("TEE-MED", 2), line("CAP-1", 0))
    order = _update(held, brand, updated_at=T0 + dt.timedelta(hours=1), lines=same)
    assert order.state == OrderState.ACCEPTED and Order.objects.get(pk=held.pk).platform_conflicts == {}
    order = _update(held, brand, updated_at=T0 + dt.timedelta(hours=2), lines=(line("TEE-M", 3),))
    order.refresh_from_db()
    assert order.state == OrderState.ACCEPTED
    assert list(order.lines.values_list("sku_code", "quantity")) == [("TEE-M", 2), ("CAP-1", 1)]
    assert order.platform_conflicts == {"lines": [["TEE-M", "3", "", ""]]}
    order = order_conflict_decide(order=order, field="lines", decision="platform", actor=fixer)
    assert order.state == OrderState.ACCEPTED
    assert list(order.lines.values_list("sku_code", "quantity")) == [("TEE-M", 3)]
    assert order.allocated_stock() == [[stock["TEE-M"].pk, 3]]


def test_deciding_needs_the_change_permission_first(accepted_order, brand, order_manager, operator):
    order_edit(order=accepted_order, actor=order_manager, phone="+34 600 999 999")
    order = _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=1), phone="+34 611 000 000")
    before = written(order)
    with pytest.raises(NotPermitted):
        order_conflict_decide(order=order, field="contact_phone", decision="platform", actor=operator)
    assert written(order) == before


def test_a_system_edit_is_no_person_s_fix(accepted_order, brand):
    order_edit(order=accepted_order, actor=None, phone="+34 600 999 999")
    order = _update(accepted_order, brand, updated_at=T0 + dt.timedelta(hours=1), phone="+34 611 000 000")
    order.refresh_from_db()
    assert order.contact_phone == "+34 611 000 000" and order.person_fixes == {}


def test_an_unknown_user_without_roles_cannot_create_aliases(brand, stock):
    with pytest.raises(NotPermitted):
        sku_alias_create(brand=brand, code="TEE-MED", sku=stock["TEE-M"], actor=UserFactory(username="nobody"))
