"""Issue 4 §2: the object page shows a button per transition allowed from the current state and permitted to the
user; a crafted POST is checked again by the service; forcing needs a reason and is recorded."""

import re

import pytest

from orders.models import OrderState
from orders.services import order_ingest
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku
from warehouse.models import TransitionRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    order = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#1", lines=(line("TEE-M"),)), brand=brand
    ).order
    assert order.state == OrderState.ACCEPTED
    return order


def _rendered_action(client, url, marker):
    """The action of the form on the rendered page that holds `marker` (a button's value, or the force select): a
    post goes where the page sends it, never to a URL the test wrote."""
    html = client.get(url).content.decode()
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.DOTALL):
        if marker in form:
            return re.search(r'action="([^"]+)"', form).group(1)
    raise AssertionError(f"no form with {marker!r} on {url}")


def _buttons(client, order):
    response = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert response.status_code == 200
    return {b["name"]: b for b in response.context["transition_buttons"]}, response.context["force_choices"]


def test_a_manager_sees_only_the_steps_allowed_from_the_current_state(client, make_user, accepted):
    client.force_login(make_user("warehouse_manager"))
    buttons, _force = _buttons(client, accepted)
    assert "release_to_pick" in buttons and "cancel" in buttons
    assert "pack" not in buttons and "deliver" not in buttons
    assert "hold" not in buttons  # a hold needs its reasons: not a bare button


def test_finance_sees_no_buttons_and_a_crafted_post_is_refused(client, make_user, accepted):
    client.force_login(make_user("finance"))
    buttons, force = _buttons(client, accepted)
    assert buttons == {} and force == []
    response = client.post(f"/admin/orders/order/{accepted.pk}/transition/release_to_pick/", {"reason": ""})
    assert response.status_code == 403
    accepted.refresh_from_db()
    assert accepted.state == OrderState.ACCEPTED


def test_a_wrong_state_post_changes_nothing(client, make_user, accepted):
    client.force_login(make_user("warehouse_manager"))
    client.post(f"/admin/orders/order/{accepted.pk}/transition/pack/", {"reason": ""})
    accepted.refresh_from_db()
    assert accepted.state == OrderState.ACCEPTED


def test_a_button_runs_the_orders_service(client, make_user, accepted):
    manager = make_user("warehouse_manager")
    client.force_login(manager)
    action = _rendered_action(client, f"/admin/orders/order/{accepted.pk}/change/", 'value="release_to_pick"')
    assert client.post(action, {"reason": "wave 3"}).status_code == 302
    accepted.refresh_from_db()
    assert accepted.state == OrderState.PICKING
    assert TransitionRecord.objects.filter(object_id=accepted.pk, name="release_to_pick", actor=manager).exists()
    assert accepted.events.filter(kind="released_to_pick").exists()  # the service wrote the support timeline


def test_forcing_needs_a_reason_and_is_recorded_as_forced(client, make_user, brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    held = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#2", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    ).order
    manager = make_user("warehouse_manager")
    client.force_login(manager)
    action = _rendered_action(client, f"/admin/orders/order/{held.pk}/change/", 'name="name"')
    client.post(action, {"name": "validate", "reason": "  "})
    held.refresh_from_db()
    assert held.state == OrderState.ON_HOLD
    client.post(action, {"name": "validate", "reason": "ZIP confirmed by phone"})
    held.refresh_from_db()
    assert held.state != OrderState.ON_HOLD
    record = TransitionRecord.objects.get(object_id=held.pk, name="validate", forced=True)
    assert record.actor == manager and record.reason == "ZIP confirmed by phone"


def test_operations_cannot_force(client, make_user, brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    held = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#3", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    ).order
    client.force_login(make_user("operations"))
    assert _buttons(client, held)[1] == []
    assert client.post(f"/admin/orders/order/{held.pk}/force/", {"name": "validate", "reason": "x"}).status_code == 403
    held.refresh_from_db()
    assert held.state == OrderState.ON_HOLD


def test_a_manager_closes_a_handed_over_shipment_manually_with_a_reason(client, make_user, accepted):
    from django.utils import timezone

    from orders.services import (
        order_confirm_picked,
        order_pack,
        order_release_to_pick,
        shipment_create,
        shipment_hand_to_carrier,
    )

    order = accepted
    for step in (order_release_to_pick, order_confirm_picked, order_pack):
        order = step(order=order, actor=None)
    shipment = shipment_create(order=order, carrier="DHL", actor=None, tracking_number="TRK1")
    shipment = shipment_hand_to_carrier(
        shipment=shipment, carrier_receipt="manifest 7", handed_at=timezone.now(), actor=None
    )
    client.force_login(make_user("operations"))
    ops_page = client.get(f"/admin/orders/shipment/{shipment.pk}/change/")
    assert ops_page.context["force_choices"] == []
    manager = make_user("warehouse_manager")
    client.force_login(manager)
    page = client.get(f"/admin/orders/shipment/{shipment.pk}/change/")
    assert "deliver" in [c["name"] for c in page.context["force_choices"]]
    assert "deliver" not in {b["name"] for b in page.context["transition_buttons"]}
    action = _rendered_action(client, f"/admin/orders/shipment/{shipment.pk}/change/", 'name="name"')
    client.post(action, {"name": "deliver", "reason": "POD by email"})
    shipment.refresh_from_db()
    assert shipment.state == "delivered" and shipment.closed_manually_reason == "POD by email"
    assert TransitionRecord.objects.filter(object_id=shipment.pk, name="deliver", forced=True, actor=manager).exists()


def test_a_crafted_id_is_a_404_never_a_500(client, make_user, accepted):
    client.force_login(make_user("warehouse_manager"))
    for url in (
        f"/admin/orders/order/{accepted.pk}/change/transition/release_to_pick/",  # the old broken form action
        "/admin/orders/order/not-a-number/force/",
    ):
        assert client.post(url, {"name": "validate", "reason": "x"}).status_code == 404
    accepted.refresh_from_db()
    assert accepted.state == OrderState.ACCEPTED
