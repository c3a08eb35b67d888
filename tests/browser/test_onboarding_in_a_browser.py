"""Issue 13 §4 in a real browser. An administrator creates a connection in the console, copies its webhook URL with
the page's Copy button, the Shopify simulator (as the platform, subscribed to the copied URL and the topics the page
lists) sends a signed webhook there, and the brand's checklist item "webhook subscribed and first delivery seen"
turns green; the brand user sees the same checklist, and another brand's is "not found" to them. A manager ticks an
item: without a note one error and nothing saved, with a note it is done and its who/when/why are shown. A foreign API
host typed into the connection's form is refused, and a listener standing in for it never hears a connection."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from cryptography.fernet import Fernet

from integrations.models import Connection, InboundDelivery
from integrations.onboarding import OnboardingItem
from integrations.platforms.registry import connector_for
from integrations.services import connection_create, connection_set_credentials, connection_set_signing_secret
from tests.browser.test_narrow_screens import OFFENDERS_JS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "shpat_onboarding_browser_01"
APP_SECRET = "shpss_onboarding_browser_01"  # Shopify signs every webhook with the app's secret


@pytest.fixture
def shopify():
    sim = connector_for("shopify").simulator(credentials={"access_token": TOKEN}, secret=APP_SECRET).start()
    yield sim
    sim.stop()


def _item(page, step):
    return page.locator(f"#item-{step}")


def test_a_webhook_delivered_to_the_copied_url_turns_the_checklist_item_green_for_staff_and_the_brand(
    make_user, brand, other_brand, shopify, sign_in, live_server, chromium
):
    base = live_server.url
    page = sign_in(make_user("administrator", username="ada"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.goto(f"{base}/admin/integrations/connection/add/")
    page.select_option("select[name=brand]", str(brand.pk))
    page.select_option("select[name=platform]", "shopify")
    page.fill("input[name=name]", "Acme shop")
    page.fill("input[name=shop]", shopify.shop)
    page.fill("input[name=api_base_url]", shopify.url)  # loopback: the development profile, for the simulators
    page.fill("input[name=new_credentials]", json.dumps({"access_token": TOKEN}))
    page.fill("input[name=new_signing_secret]", APP_SECRET)
    page.click("input[name=_continue]")
    page.wait_for_selector("text=was added successfully")
    conn = Connection.objects.get(channel__name="Acme shop")

    page.click("#onboarding-checklist")
    page.wait_for_selector("h1:has-text('Onboarding · Acme Apparel')")
    assert _item(page, "credentials").get_attribute("data-done") == "yes"
    assert _item(page, "webhook").get_attribute("data-done") == "no"
    assert "No webhook delivery yet on Shopify — Acme shop" in _item(page, "webhook").inner_text()
    page.go_back()

    # What a person pastes into the shop's admin: the copied address and the listed topics.
    page.click("#copy-webhook-url")
    page.wait_for_selector("#copy-webhook-url:has-text('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#webhook-url")
    topics = page.locator("#webhook-topics li code").all_inner_texts()
    assert topics == list(connector_for("shopify").webhook_topics)
    for topic in topics:
        shopify.subscribe(topic=topic, address=copied)

    shopify.upsert_order({})  # the shop takes an order: a signed orders/create to the copied address
    (sent,) = shopify.ledger()["webhooks"]
    assert sent["status"] == 200, sent
    delivery = InboundDelivery.objects.get(connection=conn)
    assert delivery.topic == "orders/create"

    page.click("#onboarding-checklist")
    webhook = _item(page, "webhook")
    assert webhook.get_attribute("data-done") == "yes"
    assert webhook.locator(".pill.ok").inner_text() == "Done"
    evidence = webhook.locator(".evidence").inner_text()
    assert evidence.startswith("First delivery ") and evidence.endswith("on Shopify — Acme shop (orders/create).")
    staff_view = page.locator("#checklist").evaluate("el => [...el.children].map(li => li.dataset.done)")

    # The brand's own user, in a browser of their own: the same checklist from the menu, and no other brand's.
    theirs = chromium.new_context(viewport={"width": 375, "height": 800})
    them = theirs.new_page()
    try:
        make_user("brand", brand=brand, username="acme-user")
        them.goto(f"{base}/accounts/login/")
        them.fill("#id_username", "acme-user")
        them.fill("#id_password", "pw-for-tests-only")
        them.click("button[type=submit]")
        them.wait_for_load_state()
        them.click("label.menu-button")  # the folded menu of a phone screen
        them.click("nav >> text=Onboarding")
        them.click("#brands >> text=Acme Apparel")
        them.wait_for_selector("h1:has-text('Onboarding · Acme Apparel')")
        assert them.locator("#checklist").evaluate("el => [...el.children].map(li => li.dataset.done)") == staff_view
        assert them.locator("#item-webhook .evidence").inner_text() == evidence
        assert them.locator(".tick-form").count() == 0  # the brand reads; staff tick
        assert them.evaluate(OFFENDERS_JS) == []
        response = them.goto(f"{base}/onboarding/{other_brand.pk}/")
        assert response.status == 404
        assert "We can't find that page" in them.content()
    finally:
        theirs.close()


def test_a_manager_ticks_an_item_only_with_a_note(make_user, brand, sign_in, live_server):
    manager = make_user("warehouse_manager", username="mia")
    page = sign_in(manager)
    page.click("nav >> text=Onboarding")
    page.click("#brands >> text=Acme Apparel")
    inventory = _item(page, "inventory")
    assert inventory.get_attribute("data-done") == "no"

    inventory.locator("button:has-text('Tick with this note')").click()  # the mistake: no note
    error = page.wait_for_selector("#onboarding-error")
    assert page.locator("#onboarding-error").count() == 1 and page.locator(".messages").count() == 0
    assert "Nothing was saved" in error.inner_text() and "Write a note" in error.inner_text()
    assert page.locator("#item-inventory #onboarding-error").count() == 1  # beside the form it came from
    assert not OnboardingItem.objects.exists()

    # A go-live date left out: the note typed stays in the form, nothing saved.
    page.fill("#go-live-form textarea[name=note]", "Agreed on the call with Ana")
    page.click("#go-live-form button[type=submit]")
    page.wait_for_selector("#item-go_live #onboarding-error >> text=must be a date written like 2026-12-24")
    assert page.input_value("#go-live-form textarea[name=note]") == "Agreed on the call with Ana"
    assert not OnboardingItem.objects.exists()
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate(OFFENDERS_JS) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    inventory = _item(page, "inventory")
    inventory.locator("textarea[name=note]").fill("40 units counted against the inbound receipt")
    inventory.locator("button:has-text('Tick with this note')").click()
    page.wait_for_selector(".messages >> text=ticked for Acme Apparel")
    inventory = _item(page, "inventory")
    assert inventory.get_attribute("data-done") == "yes"
    assert "Ticked by mia on " in inventory.locator(".tick").inner_text()
    assert "40 units counted against the inbound receipt" in page.inner_text("#history")
    item = OnboardingItem.objects.get(brand=brand, step="inventory")
    assert item.by == manager and item.history.get().history_change_reason == item.note

    page.fill("#go-live-form input[name=go_live_on]", "2026-12-24")
    page.click("#go-live-form button[type=submit]")
    page.wait_for_selector(".messages >> text=goes live on 24 Dec 2026")
    assert _item(page, "go_live").get_attribute("data-done") == "yes"
    assert page.input_value("#go-live-form input[name=go_live_on]") == "2026-12-24"


class Listener:
    """A TCP listener on a second loopback address, standing in for a foreign API host: it counts every connection
    it accepts (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.2:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def foreign_host():
    listener = Listener()
    socket.create_connection(("127.0.0.2", int(listener.url.rsplit(":", 1)[1])), timeout=2).close()
    for _ in range(50):  # the control: it does hear a connection
        if listener.accepted:
            break
        threading.Event().wait(0.02)
    assert listener.accepted == 1
    listener.accepted = 0
    yield listener
    listener.close()


def test_a_foreign_api_host_is_refused_in_the_form_and_never_contacted(
    make_user, brand, sign_in, live_server, foreign_host, settings
):
    settings.PRODUCTION = True  # loopback stands for the foreign host: only the development profile allows it
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]  # the production profile seals with a real key
    conn = connection_create(brand=brand, platform="shopify", name="Acme shop", shop="acme.myshopify.com", actor=None)
    conn = connection_set_credentials(connection=conn, credentials={"access_token": TOKEN}, actor=None)
    page = sign_in(make_user("administrator"))
    page.goto(f"{live_server.url}/admin/integrations/connection/{conn.pk}/change/")

    for foreign in (foreign_host.url, "https://evil.example.com"):
        page.fill("input[name=api_base_url]", foreign)
        page.fill("input[name=new_credentials]", json.dumps({"access_token": "shpat_typed_again"}))
        page.click("input[name=_save]")
        error = page.wait_for_selector(".field-api_base_url .errorlist")
        assert error.inner_text().startswith("Refused: ") and "*.myshopify.com" in error.inner_text()
        assert page.input_value("input[name=api_base_url]") == foreign  # what was typed stays
    assert "development profile" not in error.inner_text()  # the last one: a host of no platform
    conn.refresh_from_db()
    assert conn.api_base_url == ""

    # A row that got there another way (an old row, a shell): the page's Subscribe button still sends nothing.
    Connection.objects.filter(pk=conn.pk).update(api_base_url=foreign_host.url)
    page.goto(f"{live_server.url}/admin/integrations/connection/{conn.pk}/change/")
    page.click("#register-webhooks-button")
    said = page.wait_for_selector(".messagelist .error").inner_text()
    assert "nothing was sent, the API base URL is refused" in said and "development profile" in said
    threading.Event().wait(0.3)
    assert foreign_host.accepted == 0


def test_the_subscribe_button_subscribes_the_platform_and_its_next_order_is_the_first_delivery(
    make_user, brand, shopify, sign_in, live_server
):
    conn = connection_create(brand=brand, platform="shopify", name="Acme shop", shop=shopify.shop, actor=None)
    Connection.objects.filter(pk=conn.pk).update(api_base_url=shopify.url)
    connection_set_credentials(connection=conn, credentials={"access_token": TOKEN}, actor=None)
    connection_set_signing_secret(connection=conn, secret=APP_SECRET, actor=None, window=None)
    page = sign_in(make_user("administrator"))
    page.goto(f"{live_server.url}/admin/integrations/connection/{conn.pk}/change/")
    address = page.input_value("#webhook-url")

    page.click("#register-webhooks-button")
    said = page.wait_for_selector(".messagelist .success").inner_text()
    assert said.startswith("Shopify — Acme shop: subscribed orders/create, orders/updated, orders/cancelled to ")
    assert address in said
    assert page.url.endswith(f"/admin/integrations/connection/{conn.pk}/change/")  # back on the connection's page
    assert {s["address"] for s in shopify.ledger()["subscriptions"]} == {address}

    shopify.upsert_order({})
    page.click("#onboarding-checklist")
    assert _item(page, "webhook").get_attribute("data-done") == "yes"
