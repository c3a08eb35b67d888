"""Issue 11 item 1, in a real browser: an administrator re-runs dead-lettered inbound deliveries after a fix, in
bulk from the delivery list's action and one at a time from the button on a dead letter's page."""

import pytest
from django.test import Client

from integrations.models import DeliveryState, InboundDelivery
from inventory.services import stock_receive
from orders.models import Order, OrderState
from tests.integrations.conftest import SHOPIFY_SECRET, dumps, run_queued_tasks, shopify_headers, shopify_order
from tests.integrations.factories import ConnectionFactory
from tests.integrations.faults import refusing_writes
from tests.inventory.factories import SkuFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dead_letters(brand, facility):
    """Three signed webhooks dead-lettered by a fault PostgreSQL raised (a value it refused), since fixed."""
    from integrations.connection_cache import connection_cache_clear

    connection_cache_clear()
    sku = SkuFactory(brand=brand, code="TEE-BLK-M")
    stock_receive(sku=sku, facility=facility, quantity=100, event_id="rcv-tee", actor=None)
    connection = ConnectionFactory(brand=brand, platform="shopify", secrets={"signing_secret": SHOPIFY_SECRET})
    with refusing_writes("orders_order", sqlstate="22001", message="value too long"):
        for n in range(3):
            body = dumps(shopify_order(6100 + n))
            headers = shopify_headers(body, webhook_id=f"dl-{n}", topic="orders/create")
            response = Client().post(
                f"/webhooks/shopify/{connection.pk}/", data=body, content_type="application/json", headers=headers
            )
            assert response.status_code == 200
        assert run_queued_tasks() == 3
    deliveries = list(InboundDelivery.objects.order_by("delivery_id"))
    assert {d.state for d in deliveries} == {DeliveryState.DEAD_LETTER}
    return deliveries


def test_an_administrator_reruns_dead_letters_from_the_list_and_from_a_delivery_page(
    make_user, dead_letters, sign_in, live_server
):
    first, second, third = dead_letters
    page = sign_in(make_user("administrator"))
    page.goto(f"{live_server.url}/admin/integrations/inbounddelivery/?state__exact=dead_letter")
    page.check(f"input[name=_selected_action][value='{first.pk}']")
    page.check(f"input[name=_selected_action][value='{second.pk}']")
    page.select_option("select[name=action]", "rerun_dead_letters")
    page.click("button[name=index]")
    page.wait_for_selector("text=Re-queued 2 dead-lettered deliveries.")
    assert run_queued_tasks() == 2

    page.goto(f"{live_server.url}/admin/integrations/inbounddelivery/{third.pk}/change/")
    assert page.locator("[data-state=dead_letter]").is_visible()
    page.click("button:has-text('Re-run this delivery')")
    page.wait_for_selector("text=Re-queued 1 dead-lettered delivery.")
    assert page.locator("[data-state=received]").is_visible()
    assert page.locator("button:has-text('Re-run this delivery')").count() == 0, "no button once it is not dead"
    assert run_queued_tasks() == 1

    states = set(InboundDelivery.objects.values_list("state", flat=True))
    assert states == {DeliveryState.PROCESSED}
    assert Order.objects.filter(state=OrderState.ACCEPTED).count() == 3
    page.reload()
    assert page.locator("[data-state=processed]").is_visible()


def test_a_manager_gets_no_rerun(make_user, dead_letters, sign_in, live_server):
    page = sign_in(make_user("warehouse_manager"))
    response = page.goto(f"{live_server.url}/admin/integrations/inbounddelivery/{dead_letters[0].pk}/change/")
    assert response.status == 403
    assert InboundDelivery.objects.get(pk=dead_letters[0].pk).state == DeliveryState.DEAD_LETTER
