"""Issue 13 §4: a brand's onboarding checklist. Items turn done from the evidence the hub sees (sealed credentials,
the first stored webhook delivery, a catalog without drift) or from a person's tick with a note; inventory only from
a person's confirmation; the go-live date from an administrator or a manager. Refused input saves nothing and keeps
what was typed; another brand's checklist is "not found"."""

from __future__ import annotations

import pytest

from integrations.models import DeliverySource, InboundDelivery
from integrations.onboarding import NOTE_MAX, OnboardingItem, OnboardingStep, onboarding_checklist, onboarding_tick
from inventory.services import stock_receive
from tests.factories import FacilityFactory
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import DefinedSkuFactory, SkuFactory
from warehouse.errors import NotPermitted

pytestmark = pytest.mark.django_db


def _items(brand):
    return {item.step: item for item in onboarding_checklist(brand=brand).items}


def test_a_new_brand_waits_on_every_item_saying_what_is_missing(brand, roles):
    items = _items(brand)
    assert [i.step for i in items.values()] == [s.value for s in OnboardingStep]
    assert not any(i.done for i in items.values())
    assert "No connection yet" in items["credentials"].waiting
    assert "No SKU yet" in items["catalog"].waiting
    assert "No stock yet" in items["inventory"].waiting


def test_the_evidence_ticks_credentials_webhook_and_catalog_but_not_inventory(brand, roles):
    shop = ConnectionFactory(brand=brand, name="Acme shop")
    items = _items(brand)
    assert items["credentials"].done_by == "evidence"
    assert items["credentials"].evidence == "Credentials sealed for Shopify — Acme shop."
    assert not items["webhook"].done and "Acme shop" in items["webhook"].waiting

    # a record the reconciler pulled is no webhook delivery
    InboundDelivery.objects.create(connection=shop, delivery_id="r-1", body=b"{}", source=DeliverySource.RECONCILER)
    assert not _items(brand)["webhook"].done
    InboundDelivery.objects.create(connection=shop, delivery_id="w-1", body=b"{}", topic="orders/create")
    webhook = _items(brand)["webhook"]
    assert webhook.done and webhook.done_by == "evidence"
    assert webhook.evidence.startswith("First delivery ")
    assert webhook.evidence.endswith(" on Shopify — Acme shop (orders/create).")

    ready = SkuFactory(brand=brand, code="TEE-M")
    DefinedSkuFactory(brand=brand, code="TEE-L", hs_code="")
    catalog = _items(brand)["catalog"]
    assert not catalog.done and catalog.waiting.startswith("1 of 2 SKUs miss")
    assert catalog.details == ["TEE-L: missing weight, dimensions, HS code"]

    facility = FacilityFactory()
    stock_receive(sku=ready, facility=facility, quantity=40, event_id="onb-1", actor=None)
    from inventory.models import Sku

    Sku.objects.filter(code="TEE-L").delete()
    items = _items(brand)
    assert items["catalog"].done and items["catalog"].evidence == "All 1 SKUs have weight, dimensions and HS code."
    inventory = items["inventory"]
    assert not inventory.done and inventory.evidence == "Stock seeded: 1 SKUs at 1 facility, 40 units on hand."
    assert "confirms the counts" in inventory.waiting


def test_another_brands_delivery_is_not_this_brands_evidence(brand, other_brand, roles):
    theirs = ConnectionFactory(brand=other_brand)
    InboundDelivery.objects.create(connection=theirs, delivery_id="w-1", body=b"{}", topic="orders/create")
    assert not _items(brand)["webhook"].done and _items(other_brand)["webhook"].done


def test_a_manager_confirms_inventory_with_a_note_kept_in_the_history(client, brand, make_user):
    manager = make_user("warehouse_manager")
    client.force_login(manager)
    response = client.post(
        f"/onboarding/{brand.pk}/tick/", {"step": "inventory", "note": "Counted 40 against the ASN", "action": "tick"}
    )
    assert response.status_code == 302
    item = OnboardingItem.objects.get(brand=brand, step="inventory")
    assert (item.ticked, item.note, item.by) == (True, "Counted 40 against the ASN", manager)
    assert _items(brand)["inventory"].done_by == "person"
    last = item.history.latest("history_date")
    assert last.history_user == manager and last.history_change_reason == "Counted 40 against the ASN"
    page = client.get(f"/onboarding/{brand.pk}/").content.decode()
    assert "Counted 40 against the ASN" in page and manager.username in page

    client.post(f"/onboarding/{brand.pk}/tick/", {"step": "inventory", "note": "Recount", "action": "untick"})
    assert not _items(brand)["inventory"].done
    assert item.history.count() == 2


def test_a_tick_without_a_note_is_refused_with_one_error_and_saves_nothing(client, brand, make_user):
    client.force_login(make_user("administrator"))
    response = client.post(f"/onboarding/{brand.pk}/tick/", {"step": "catalog", "note": "   ", "action": "tick"})
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('id="onboarding-error"') == 1 and "Write a note" in page
    assert not OnboardingItem.objects.exists() and not OnboardingItem.history.exists()


def test_an_unknown_item_and_an_overlong_note_are_refused(client, brand, make_user):
    client.force_login(make_user("administrator"))
    response = client.post(f"/onboarding/{brand.pk}/tick/", {"step": "payroll", "note": "Done"})
    assert response.status_code == 400 and "is not an item a person ticks" in response.content.decode()
    long_note = "x" * (NOTE_MAX + 1)
    response = client.post(f"/onboarding/{brand.pk}/tick/", {"step": "catalog", "note": long_note})
    assert response.status_code == 400
    assert f"note: {NOTE_MAX + 1} characters, at most {NOTE_MAX}" in response.content.decode()
    assert long_note in response.content.decode()  # what was typed stays in the form
    assert not OnboardingItem.objects.exists()


def test_a_go_live_date_in_another_format_is_refused_keeping_what_was_typed(client, brand, make_user):
    client.force_login(make_user("administrator"))
    response = client.post(f"/onboarding/{brand.pk}/go-live/", {"go_live_on": "24/12/2026", "note": "Agreed"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be a date written like 2026-12-24" in page and 'value="24/12/2026"' in page
    assert page.count('id="onboarding-error"') == 1
    assert not OnboardingItem.objects.exists()

    response = client.post(f"/onboarding/{brand.pk}/go-live/", {"go_live_on": "2026-12-24", "note": ""})
    assert response.status_code == 302
    go_live = _items(brand)["go_live"]
    assert go_live.done and go_live.evidence == "Goes live on 24 Dec 2026."


def test_an_unknown_brand_is_not_found(client, make_user):
    client.force_login(make_user("administrator"))
    assert client.get("/onboarding/999999/").status_code == 404
    assert client.post("/onboarding/999999/tick/", {"step": "catalog", "note": "x"}).status_code == 404
    assert not OnboardingItem.objects.exists()


def test_a_brand_user_reads_their_own_checklist_only_and_ticks_nothing(client, brand, other_brand, make_user):
    client.force_login(make_user("brand", brand=brand))
    page = client.get(f"/onboarding/{brand.pk}/")
    assert page.status_code == 200 and "tick-form" not in page.content.decode()
    assert client.get(f"/onboarding/{other_brand.pk}/").status_code == 404
    listing = client.get("/onboarding/").content.decode()
    assert brand.name in listing and other_brand.name not in listing
    assert client.post(f"/onboarding/{brand.pk}/tick/", {"step": "catalog", "note": "x"}).status_code == 403
    assert client.post(f"/onboarding/{other_brand.pk}/tick/", {"step": "catalog", "note": "x"}).status_code == 404
    assert not OnboardingItem.objects.exists()


def test_the_service_refuses_a_role_without_the_permission(brand, make_user):
    with pytest.raises(NotPermitted):
        onboarding_tick(brand=brand, step="catalog", note="ok", actor=make_user("operations"))
    assert not OnboardingItem.objects.exists()


def test_the_brand_and_connection_pages_link_the_checklist(client, brand, make_user):
    shop = ConnectionFactory(brand=brand)
    client.force_login(make_user("administrator"))
    url = f'href="/onboarding/{brand.pk}/"'
    assert url in client.get(f"/admin/warehouse/brand/{brand.pk}/change/").content.decode()
    assert url in client.get(f"/admin/integrations/connection/{shop.pk}/change/").content.decode()
    assert 'href="/onboarding/"' in client.get("/allocation-policy/").content.decode()  # the menu


def test_the_checklist_lists_every_brand_for_staff(client, brand, other_brand, make_user):
    client.force_login(make_user("warehouse_manager"))
    listing = client.get("/onboarding/").content.decode()
    assert brand.name in listing and other_brand.name in listing
