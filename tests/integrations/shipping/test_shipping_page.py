"""The shipping page's bad input (issue 17, done-when): what the form sends for no parcels, a zero or negative
weight at the dock, a service the carrier does not offer, an override without a reason, customs data missing outside
the customs union and an order not packed yet is refused with the reason on the page, and nothing is bought or kept.
(The browser test of the same page: tests/browser/test_shipping_in_a_browser.py.)"""

from __future__ import annotations

import html

import pytest

from integrations.shipping.models import Label, Manifest, ShippingRule
from orders.models import Order, OrderState, Parcel, Shipment
from tests.integrations.shipping.conftest import packed_order

pytestmark = pytest.mark.django_db


def _state(order):
    parcels = list(Parcel.objects.values_list("shipment_id", "weight_grams").order_by("pk"))
    return (
        Order.objects.get(pk=order.pk).state,
        Shipment.objects.count(),
        Label.objects.count(),
        Manifest.objects.count(),
        parcels,
    )


def test_bad_input_on_the_page_is_named_on_the_page_and_changes_nothing(
    make_user, client, brand, facility, dhl_account, eu_rule, dhl_sim
):
    client.force_login(make_user("warehouse_manager"))
    ShippingRule.objects.create(name="World", zone="outside", carrier="dhl_parcel_de", service="V53WPAK")
    order = packed_order(brand, facility)
    no_parcels = packed_order(brand, facility, parcels=())
    to_switzerland = packed_order(brand, facility, code="MUG", country="CH", postal_code="8001")
    picked = packed_order(brand, facility)
    Order.objects.filter(pk=picked.pk).update(state=OrderState.PICKED)
    cases = [
        (no_parcels, {}, "has no parcel waiting for a label"),
        (order, {"weight:1": "0"}, "parcel 1: weight must be a positive number of grams"),
        (order, {"weight:1": "-40"}, "parcel 1: weight must be a positive number of grams"),
        (order, {"weight:1": "heavy"}, "parcel 1: weight must be a positive number of grams"),
        (order, {"override": "dhl_parcel_de:V99", "override_reason": "faster"}, "'V99' is not a DHL Parcel DE service"),
        (order, {"override": "dhl_parcel_de:V62WP"}, "Say why the rules' service is overridden."),
        (to_switzerland, {}, "SKU MUG: customs value, country of origin missing"),
        (picked, {}, "labels are bought once it is packed"),
    ]
    for subject, form, words in cases:
        before, calls = _state(subject), len(dhl_sim.requests)
        answer = client.post(f"/shipping/orders/{subject.pk}/ship/", form, follow=True)
        assert answer.status_code == 200 and answer.redirect_chain[-1][0] == f"/shipping/orders/{subject.pk}/"
        assert words in html.unescape(answer.content.decode()), (form, words)
        held = subject is to_switzerland  # missing customs data holds the order (§2), on the floor: only that
        after = ("floor_hold", *before[1:]) if held else before
        assert _state(subject) == after and len(dhl_sim.requests) == calls, form

    page = client.get(f"/shipping/orders/{to_switzerland.pk}/").content.decode()
    assert "SKU MUG: customs value, country of origin missing" in html.unescape(page)  # said before anyone clicks
