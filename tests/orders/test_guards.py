"""The guards themselves: each is a named predicate, and a refused transition names every guard that failed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.models import AllocationRow, Order, OrderState
from orders.validation import MAX_LINE_QUANTITY, quantity_parse
from tests.orders.factories import line
from warehouse.errors import TransitionNotAllowed
from warehouse.transitions import transition_apply

pytestmark = pytest.mark.django_db


def test_validation_refuses_naming_every_mandatory_field_that_fails(make_order, operator):
    order = make_order(phone="", lines=(line("GHOST", 1), line("TEE-M", 0)))
    order.delivery_postal_code = ""
    order.save()
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=order, name="validate", actor=operator)
    assert [r.code for r in refused.value.reasons] == [
        "unknown_sku",
        "quantity_invalid",
        "postal_code_missing",  # the one rule set's codes (orders.models.mandatory), as validation names them
        "phone_missing",
    ]
    assert Order.objects.get(pk=order.pk).state == OrderState.ON_HOLD


def test_an_order_without_an_order_id_or_lines_cannot_be_validated(brand, operator):
    order = Order.objects.create(brand=brand, source="file", platform_order_id="")
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=order, name="validate", actor=operator)
    codes = [r.code for r in refused.value.reasons]
    assert codes[:2] == ["order_id_missing", "lines_missing"]
    assert Order.objects.get(pk=order.pk).state == OrderState.RECEIVED


def test_acceptance_guard_refuses_an_order_with_nothing_allocated(make_order, operator):
    order = make_order()
    AllocationRow.objects.filter(order=order).delete()
    Order.objects.filter(pk=order.pk).update(state=OrderState.VALIDATED)
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=Order.objects.get(pk=order.pk), name="accept", actor=operator)
    assert [r.code for r in refused.value.reasons] == ["not_allocated"]


def test_acceptance_guard_refuses_a_partial_allocation(make_order, operator, stock):
    order = make_order()  # 2 × TEE-M, 1 × CAP-1
    AllocationRow.objects.filter(order=order).exclude(sku=stock["TEE-M"]).delete()  # only 2 × TEE-M stay
    Order.objects.filter(pk=order.pk).update(state=OrderState.VALIDATED)
    with pytest.raises(TransitionNotAllowed):
        transition_apply(obj=Order.objects.get(pk=order.pk), name="accept", actor=operator)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_is_a_quantity(value):
    assert quantity_parse(value) is None


@given(st.integers())
def test_an_integer_is_a_quantity_only_between_1_and_the_line_maximum(value):
    expected = value if 1 <= value <= MAX_LINE_QUANTITY else None
    assert quantity_parse(value) == expected
    assert quantity_parse(str(value)) == (expected if len(str(value).lstrip("-")) <= 9 else None)


@given(st.text(max_size=20))
def test_quantity_text_never_raises_and_is_a_positive_integer_or_nothing(text):
    parsed = quantity_parse(text)
    assert parsed is None or (isinstance(parsed, int) and 1 <= parsed <= MAX_LINE_QUANTITY)
