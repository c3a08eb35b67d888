"""One mandatory-field rule set (`orders.models.mandatory`): the `validate` transition's guards and validation give the
same reason codes for the same bad order, and a held order carries exactly those codes."""

import pytest

from orders.canonical import CanonicalAddress
from orders.models import MANDATORY_CODES, VALIDATION_GUARDS, OrderState, order_lines
from orders.validation import order_reasons
from tests.orders.factories import line
from warehouse.transitions import failed_guards

pytestmark = pytest.mark.django_db

BAD_ORDERS = {
    "no ZIP, no phone, an unknown SKU, a zero quantity": {
        "address": CanonicalAddress(street1="Carrer Major 1", city="Valencia", country="ES"),
        "phone": "",
        "lines": (line("GHOST", 1), line("TEE-M", 0)),
    },
    "a country name, an implausible phone, a line without a SKU code": {
        "address": CanonicalAddress(street1="Carrer Major 1", postal_code="46001", city="Valencia", country="Spain"),
        "phone": "call me",
        "lines": (line("TEE-M", 1), line("", 2)),
    },
    "no lines and no street": {
        "address": CanonicalAddress(postal_code="46001", city="Valencia", country="ES"),
        "lines": (),
    },
    "nothing of the address": {"address": CanonicalAddress(), "lines": (line("CAP-1", -1),)},
}


def _unique(codes):
    return list(dict.fromkeys(codes))


@pytest.mark.parametrize("bad", list(BAD_ORDERS.values()), ids=list(BAD_ORDERS))
def test_guards_and_validation_name_the_same_codes(make_order, bad):
    order = make_order(**bad)
    assert order.state == OrderState.ON_HOLD

    guarded = [r.code for r in failed_guards(order, "validate")]
    validated = _unique(r.code for r in order_reasons(order=order, lines=order_lines(order)))
    held = _unique(r["code"] for r in order.hold_reasons)

    assert guarded, "a bad order must be refused by the guards"
    assert guarded == validated == held
    assert set(guarded) <= set(MANDATORY_CODES)


def test_a_good_order_passes_both(make_order):
    order = make_order()
    assert order.state == OrderState.ACCEPTED
    assert [g for g in VALIDATION_GUARDS if not g(order)] == []
    assert order_reasons(order=order, lines=order_lines(order)) == []
