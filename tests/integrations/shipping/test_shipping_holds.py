"""Issue 17 §2: an order no rule covers, or without customs data outside the customs union, is held with the reason
named, never shipped with a guessed service. `shipping_gate` is the one place that decides; a packed order goes on the
floor hold (`packed_order_hold`) and the next ship call that passes every check resumes it to packed."""

from __future__ import annotations

import pytest

from integrations.shipping import services
from integrations.shipping.errors import ShippingHeld
from integrations.shipping.models import Label, ShippingRule
from orders.models import Order, OrderState, Shipment
from tests.conftest import grant
from tests.factories import UserFactory
from tests.integrations.shipping.conftest import packed_order
from warehouse.errors import Reason
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def packer(db):
    # as the roles grant them (orders.operate_*): a hold on the floor is an order transition
    return grant(
        UserFactory(username="packer"), "orders.operate_shipment", "orders.operate_order", "orders.view_shipment"
    )


def test_the_gate_proceeds_when_nothing_stops_the_order_and_else_holds_it_through_the_hook(
    brand, facility, packer, monkeypatch
):
    order = packed_order(brand, facility)
    hooked = []
    monkeypatch.setattr(services, "packed_order_hold", lambda **kwargs: hooked.append(kwargs))

    services.shipping_gate(order=order, reasons=[], actor=packer)  # nothing stops it: it proceeds
    assert hooked == [] and not ExceptionItem.objects.exists()

    reasons = [Reason("no_shipping_rule", "no shipping rule covers this order (standard, to IT)")]
    with pytest.raises(ShippingHeld) as held:
        services.shipping_gate(order=order, reasons=reasons, actor=packer)
    assert held.value.http_status == 409 and "no shipping rule covers this order" in held.value.message
    assert [(h["order"].pk, h["reasons"]) for h in hooked] == [(order.pk, reasons)]


def test_an_order_no_rule_covers_reaches_the_hook_from_the_ship_call(brand, facility, dhl_account, packer, monkeypatch):
    hooked = []
    monkeypatch.setattr(services, "packed_order_hold", lambda **kwargs: hooked.append(kwargs))
    order = packed_order(brand, facility, country="IT", postal_code="00100")  # no rule at all
    with pytest.raises(ShippingHeld):
        services.order_ship(order=order, actor=packer)
    assert [r.code for r in hooked[0]["reasons"]] == ["no_shipping_rule"]
    assert not Shipment.objects.exists() and not Label.objects.exists()


def test_a_packed_order_no_rule_covers_leaves_packed_held_with_the_reason_and_ships_once_a_rule_covers_it(
    brand, facility, dhl_account, dhl_sim, packer
):
    order = packed_order(brand, facility, country="IT", postal_code="00100")
    with pytest.raises(ShippingHeld):
        services.order_ship(order=order, actor=packer)

    held = Order.objects.get(pk=order.pk)
    assert held.state == OrderState.FLOOR_HOLD and held.held_from == OrderState.PACKED  # in the state machine
    item = ExceptionItem.objects.get(kind=ExceptionKind.ORDER_ON_HOLD, object_id=order.pk, state="open")
    assert "no shipping rule covers this order" in item.summary
    assert [r["code"] for r in held.hold_reasons] == ["no_shipping_rule"]
    assert "to IT" in held.hold_reasons[0]["message"]
    assert not Shipment.objects.exists() and dhl_sim.parcels == {}

    ShippingRule.objects.create(name="Italy by DHL", countries="IT", carrier="dhl_parcel_de", service="V01PAK")
    (label,) = services.order_ship(order=held, actor=packer).labels  # resumed to packed, then bought
    assert label.service == "V01PAK"
    assert Order.objects.get(pk=order.pk).state == OrderState.PACKED
    item.refresh_from_db()
    assert item.state == "resolved" and "its hold is over" in item.decision_note
