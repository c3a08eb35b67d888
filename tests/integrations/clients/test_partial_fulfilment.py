"""One leg of an order shipped from several facilities, against the simulators over real HTTP: Shopify fulfils only
that leg's lines (fulfilment order line items with quantities), WooCommerce (no partial fulfilment) gets a note per
leg and is completed only by the last one."""

import pytest

from integrations.platforms.shopify.client import NothingToFulfil
from tests.integrations.clients.test_clients import make_shopify, make_woo, shopify, woo  # noqa: F401


def test_shopify_fulfils_one_legs_lines_then_the_rest_with_a_second_tracking_number(shopify):  # noqa: F811
    order = shopify.upsert_order({"line_items": [{"sku": "SHIRT", "quantity": 2}, {"sku": "CAP", "quantity": 1}]})
    shirt, cap = (str(li["id"]) for li in order["line_items"])
    client = make_shopify(shopify)

    first = client.create_fulfillment(
        order_id=order["id"], tracking_number="1ZLEG1", tracking_company="UPS",
        lines=[{"line_item_id": shirt, "sku": "SHIRT", "quantity": 1}],
    )  # fmt: skip
    assert shopify.ledger()["orders"][0]["fulfillment_status"] == "partial"
    second = client.create_fulfillment(
        order_id=order["id"], tracking_number="1ZLEG2", tracking_company="UPS",
        lines=[{"sku": "SHIRT", "quantity": 1}, {"line_item_id": cap, "sku": "CAP", "quantity": 1}],
    )  # fmt: skip
    again = client.create_fulfillment(
        order_id=order["id"], tracking_number="1ZLEG2", tracking_company="UPS", lines=[{"sku": "CAP", "quantity": 1}]
    )

    ledger = shopify.ledger()
    assert [(f["tracking_number"], [(li["sku"], li["quantity"]) for li in f["line_items"]]) for f in
            ledger["fulfillments"]] == [("1ZLEG1", [("SHIRT", 1)]), ("1ZLEG2", [("SHIRT", 1), ("CAP", 1)])]  # fmt: skip
    assert (first.created, second.created, again.created, again.id) == (True, True, False, second.id)
    assert ledger["orders"][0]["fulfillment_status"] == "fulfilled"


def test_shopify_refuses_a_leg_whose_lines_are_no_longer_open_and_writes_nothing(shopify):  # noqa: F811
    order = shopify.upsert_order({"line_items": [{"sku": "SHIRT", "quantity": 1}, {"sku": "CAP", "quantity": 1}]})
    client = make_shopify(shopify)

    with pytest.raises(NothingToFulfil):
        client.create_fulfillment(
            order_id=order["id"], tracking_number="1ZX", tracking_company="UPS", lines=[{"sku": "SHIRT", "quantity": 3}]
        )

    assert shopify.ledger()["fulfillments"] == []


def test_woocommerce_gets_a_note_per_leg_and_is_completed_by_the_last_leg_only(woo):  # noqa: F811
    order = woo.upsert_order({"line_items": [{"sku": "SHIRT", "quantity": 1}, {"sku": "CAP", "quantity": 1}]})
    client = make_woo(woo)

    client.complete_with_tracking(
        order_id=order["id"], tracking_number="LEG-1", carrier="SEUR", idempotency_key="shipment-1-key",
        lines=[{"sku": "SHIRT", "quantity": 1}], complete=False,
    )  # fmt: skip
    assert woo.ledger()["orders"][0]["status"] == "processing"
    client.complete_with_tracking(
        order_id=order["id"], tracking_number="LEG-2", carrier="SEUR", idempotency_key="shipment-2-key",
        lines=[{"sku": "CAP", "quantity": 1}], complete=True,
    )  # fmt: skip

    ledger = woo.ledger()
    assert ledger["orders"][0]["status"] == "completed"
    notes = [note["note"] for note in ledger["notes"][str(order["id"])]]
    assert len(notes) == 2
    assert "LEG-1" in notes[0] and "SHIRT × 1" in notes[0] and "LEG-2" in notes[1] and "CAP × 1" in notes[1]
