"""`seed_demo --json` (issue 3 item 10): one JSON object naming a user per role with a password that logs in, two
brands, returns in every state reached through the services, open exceptions; a second run creates nothing and
prints the same."""

import io
import json

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command

from inventory.models import Movement, Sku, SkuAlias, StockLevel
from inventory.services import inventory_verify_ledger
from orders.models import Order, OrderState
from returns.models import Return, ReturnState
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState, TransitionRecord
from warehouse.roles import brands_visible_to

pytestmark = pytest.mark.django_db

ROLES = {"operations", "warehouse_manager", "administrator", "finance", "brand"}


def _seed(*flags: str) -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", *flags, stdout=out)
    text = out.getvalue()
    assert text.count("\n") <= 1, "--json prints exactly one JSON object"
    return json.loads(text)


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def _check_the_demo_has_one_user_per_role_and_a_brand_user_per_brand(seeded, client):
    users = seeded["users"]
    assert {u["role"] for u in users} == ROLES
    brand_slugs = {b["slug"] for b in seeded["brands"]}
    assert len(brand_slugs) == 2
    assert {u["brand"] for u in users if u["role"] == "brand"} == brand_slugs
    assert all(u["brand"] is None for u in users if u["role"] != "brand")
    for entry in users:
        user = User.objects.get(username=entry["username"])
        assert entry["role"] in set(user.groups.values_list("name", flat=True))
        assert client.login(username=entry["username"], password=entry["password"]), entry["username"]
        client.logout()


def _check_a_demo_brand_user_sees_only_their_own_brand(seeded):
    for entry in (u for u in seeded["users"] if u["role"] == "brand"):
        visible = brands_visible_to(User.objects.get(username=entry["username"]))
        assert list(visible.values_list("slug", flat=True)) == [entry["brand"]]


def _check_the_demo_role_groups_carry_their_permissions(seeded):
    manager = User.objects.get(
        username=next(u["username"] for u in seeded["users"] if u["role"] == "warehouse_manager")
    )
    ops = User.objects.get(username=next(u["username"] for u in seeded["users"] if u["role"] == "operations"))
    assert manager.has_perm("returns.force_return_transition")
    assert ops.has_perm("returns.operate_return")
    assert not ops.has_perm("returns.force_return_transition")


def _check_the_demo_has_returns_in_every_state_reached_through_their_transitions(seeded):
    assert set(seeded["returns"]["by_state"]) == set(ReturnState.values)
    assert all(count >= 1 for count in seeded["returns"]["by_state"].values()), seeded["returns"]
    for state in ReturnState.values:
        assert Return.objects.filter(state=state).exists(), state
    moved = Return.objects.exclude(state=ReturnState.INITIATED)
    for rma in moved:
        assert TransitionRecord.objects.filter(object_id=rma.pk, content_type__app_label="returns").exists()
    assert TransitionRecord.objects.filter(name="triage", forced=True).exists(), "one return triaged by hand"


def _check_the_demo_has_orders_in_every_state_and_held_orders_name_their_reasons(seeded):
    assert set(seeded["orders"]["by_state"]) == set(OrderState.values)
    assert all(count >= 1 for count in seeded["orders"]["by_state"].values()), seeded["orders"]
    for state in OrderState.values:
        assert Order.objects.filter(state=state).exists(), state
    held = Order.objects.filter(state=OrderState.ON_HOLD)
    assert all(order.hold_reasons for order in held)
    codes = {reason["code"] for order in held for reason in order.hold_reasons}
    assert "short" in codes
    assert len(codes) >= 3, codes  # the invalid order names each missing field, not just the first
    assert ExceptionItem.objects.filter(kind=ExceptionKind.ORDER_ON_HOLD, state=ExceptionState.OPEN).exists()
    delivered = Order.objects.filter(state=OrderState.DELIVERED, shipments__isnull=False).distinct()
    assert delivered.exists()
    assert Return.objects.filter(order__in=delivered).exists(), "a return names the order it came from"


def _check_the_demo_catalog_has_variants_kits_and_an_alias_inside_its_window(seeded):
    assert seeded["catalog"]["kits"] >= 1
    assert Sku.objects.exclude(parent_code="").exclude(variant_attributes={}).count() >= 2
    alias = SkuAlias.objects.get()
    assert alias.is_valid_at(alias.valid_from)
    assert StockLevel.objects.filter(on_hand__gt=0).exists()


def _check_the_demo_stock_matches_its_ledger_and_has_open_exceptions(seeded):
    assert Movement.objects.exists()
    assert inventory_verify_ledger() == []
    assert seeded["exceptions"]["open"] == ExceptionItem.objects.filter(state=ExceptionState.OPEN).count() > 0


def test_the_demo_seed_builds_every_state_through_the_services_and_a_second_run_changes_nothing(client):
    """One seeding (about 15 s on PostgreSQL) serves every check; then the second run must change nothing."""
    seeded = _seed()
    _check_the_demo_has_one_user_per_role_and_a_brand_user_per_brand(seeded, client)
    _check_a_demo_brand_user_sees_only_their_own_brand(seeded)
    _check_the_demo_role_groups_carry_their_permissions(seeded)
    _check_the_demo_has_returns_in_every_state_reached_through_their_transitions(seeded)
    _check_the_demo_has_orders_in_every_state_and_held_orders_name_their_reasons(seeded)
    _check_the_demo_catalog_has_variants_kits_and_an_alias_inside_its_window(seeded)
    _check_the_demo_stock_matches_its_ledger_and_has_open_exceptions(seeded)
    assert all("api_token" not in u for u in seeded["users"]), "tokens only with --tokens: they differ per run"
    before = _row_counts()
    again = _seed()
    assert _row_counts() == before
    assert again == seeded


def test_demo_api_tokens_are_issued_when_asked_and_they_authenticate(client):
    with_tokens = _seed("--tokens")
    ops = next(u for u in with_tokens["users"] if u["role"] == "operations")
    response = client.get("/api/v1/exceptions/", HTTP_AUTHORIZATION=f"Token {ops['api_token']}")
    assert response.status_code == 200
