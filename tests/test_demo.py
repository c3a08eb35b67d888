"""`seed_demo --json` (issue 3 item 10, issue 4 item 6, issue 5 item 10): one JSON object naming a user per role with
a password that logs in and an API token that authenticates, two brands, a connection per demo brand wired to its
simulator, returns in every state reached through the services, open exceptions; a second run creates nothing and
prints the same."""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from knox.models import AuthToken

from integrations.models import Connection
from inventory.models import Movement, Sku, SkuAlias, StockLevel
from inventory.services import inventory_verify_ledger
from orders.models import Order, OrderState
from returns.models import Return, ReturnState
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState, TransitionRecord
from warehouse.roles import brands_visible_to

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


def _check_the_demo_api_tokens_authenticate_and_only_their_hash_is_stored(seeded, client):
    tokens = [u["api_token"] for u in seeded["users"]]
    assert len(set(tokens)) == len(tokens) and all(len(t) == 64 for t in tokens)
    assert not AuthToken.objects.filter(digest__in=tokens).exists(), "knox keeps the hash, not the token"
    ops = next(u for u in seeded["users"] if u["role"] == "operations")
    response = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {ops['api_token']}")
    assert response.status_code == 200, response.content
    assert response.json()["results"], "the operations user sees the demo orders"
    forged = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {ops['api_token'][:-1]}0")
    assert forged.status_code == 401


def _check_the_demo_connections_are_wired_to_their_simulators(seeded):
    connections = seeded["connections"]
    by_platform = {c["platform"]: c for c in connections}
    assert set(by_platform) == {"shopify", "woocommerce", "bigcommerce"} and len(connections) == 3
    assert {c["brand"] for c in connections} == {b["slug"] for b in seeded["brands"]}, "every demo brand sells"
    brands = [by_platform[p]["brand"] for p in ("shopify", "woocommerce", "bigcommerce")]
    assert brands == ["acme", "borealis", "borealis"]  # BigCommerce is Borealis's second storefront
    assert by_platform["shopify"]["shop"].endswith(".myshopify.com")
    assert by_platform["woocommerce"]["shop"].startswith("https://")
    assert by_platform["bigcommerce"]["shop"].isalnum(), "a store hash"
    assert by_platform["shopify"]["simulator_url"] == "http://127.0.0.1:8101"
    assert by_platform["woocommerce"]["simulator_url"] == "http://127.0.0.1:8102"
    assert by_platform["bigcommerce"]["simulator_url"] == "http://127.0.0.1:8103"
    for entry in connections:
        connection = Connection.objects.select_related("channel__brand").get(pk=entry["id"])
        assert (connection.brand.slug, connection.platform, connection.shop) == (
            entry["brand"], entry["platform"], entry["shop"],
        )  # fmt: skip
        assert entry["channel"] == connection.channel_id, "the API filters a channel's orders by it"
        assert entry["webhook_url"] == f"/webhooks/{entry['platform']}/{entry['id']}/"
        assert connection.signing_secrets_valid() == [entry["signing_secret"]]
        assert connection.credentials_get(), "the simulator mirrors these credentials"
        assert connection.api_base_url == entry["simulator_url"], "the reconciler pulls from the simulator"
        history = [str(row.__dict__) for row in connection.history.all()]
        assert history and not any(entry["signing_secret"] in row for row in history)


@pytest.mark.django_db
def test_the_demo_seed_builds_every_state_through_the_services_and_a_second_run_changes_nothing(
    client, settings, tmp_path
):
    """One seeding (about 15 s on PostgreSQL) serves every check; then the second run must change nothing."""
    media = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}
    settings.STORAGES = {**settings.STORAGES, "default": media}  # the labels the last check buys
    seeded = _seed()
    _check_the_demo_has_one_user_per_role_and_a_brand_user_per_brand(seeded, client)
    _check_a_demo_brand_user_sees_only_their_own_brand(seeded)
    _check_the_demo_role_groups_carry_their_permissions(seeded)
    _check_the_demo_has_returns_in_every_state_reached_through_their_transitions(seeded)
    _check_the_demo_has_orders_in_every_state_and_held_orders_name_their_reasons(seeded)
    _check_the_demo_catalog_has_variants_kits_and_an_alias_inside_its_window(seeded)
    _check_the_demo_stock_matches_its_ledger_and_has_open_exceptions(seeded)
    _check_the_demo_api_tokens_authenticate_and_only_their_hash_is_stored(seeded, client)
    _check_the_demo_connections_are_wired_to_their_simulators(seeded)
    before = _row_counts()
    again = _seed()
    assert _row_counts() == before, "a second run creates no token, connection or history row"
    assert again == seeded, "the same tokens, ids and secrets"
    _check_the_demos_packed_order_ships_end_to_end_against_the_carrier_simulator(seeded)


def _check_the_demos_packed_order_ships_end_to_end_against_the_carrier_simulator(seeded):
    """Issue 17 §7: the demo's carrier accounts are wired to the carrier simulators and its packed order has a carton,
    so a manager ships it: the rules choose DHL, the label is bought, the manifest closes, the pickup hands it over."""
    from integrations.carriers.management.commands.run_carrier_simulator import simulator_for
    from integrations.carriers.models import CarrierAccount
    from integrations.shipping import services
    from orders.models import Parcel, ShipmentState

    assert {c["carrier"]: c["simulator_url"] for c in seeded["carriers"]} == {
        "dhl_parcel_de": "http://127.0.0.1:8111",
        "ups": "http://127.0.0.1:8112",
    }
    (packed,) = Order.objects.filter(state=OrderState.PACKED)
    parcel = Parcel.objects.get(order=packed)
    assert parcel.shipment_id is None and parcel.weight_grams > 0
    manager = User.objects.get(username="manager")
    dhl = next(c for c in seeded["carriers"] if c["carrier"] == "dhl_parcel_de")
    with simulator_for("dhl_parcel_de", account=CarrierAccount.objects.get(pk=dhl["account"])).running() as sim:
        CarrierAccount.objects.filter(carrier="dhl_parcel_de").update(api_base_url=sim.url)
        shipped = services.order_ship(order=packed, actor=manager)
        assert shipped.shipment.carrier == "dhl_parcel_de"
        account = shipped.labels[0].account
        manifest = services.manifest_close(account=account, actor=manager)
        sim.scan(shipped.labels[0].tracking_number)
        services.handoff_record(actor=manager, manifest=manifest)
    shipped.shipment.refresh_from_db()
    assert shipped.shipment.state == ShipmentState.HANDED_TO_CARRIER
    assert Order.objects.get(pk=packed.pk).state == OrderState.DISPATCHED


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_script_serves_the_admin_delivers_simulator_orders_and_stops_every_child_on_ctrl_c(tmp_path):
    """What `make demo` does after installing, on a fresh embedded SQLite file, with no DATABASE_URL: the script
    seeds (idempotently) for the logins it prints, serves the admin, starts a simulator for each seeded connection so
    an order created on Shopify's (whose webhook carries it) or on BigCommerce's (whose webhook only names it)
    arrives in the hub by signed webhook and is accepted, and Ctrl-C leaves no process behind."""
    root = Path(__file__).resolve().parent.parent
    database = tmp_path / "demo.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DB_NAME")}
    # Free simulator ports (settings the seed wires in), so a parallel run or a demo left running never collides.
    env |= {
        "DEMO_SHOPIFY_PORT": str(_free_port()),
        "DEMO_WOOCOMMERCE_PORT": str(_free_port()),
        "DEMO_BIGCOMMERCE_PORT": str(_free_port()),
        "DEMO_DHL_PORT": str(_free_port()),
        "DEMO_UPS_PORT": str(_free_port()),
    }
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    sqlite = env | {"DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run(migrate, cwd=root, env=sqlite, check=True, capture_output=True)
    seed = [sys.executable, "manage.py", "seed_demo", "--json"]
    seeded = json.loads(subprocess.run(seed, cwd=root, env=sqlite, check=True, capture_output=True, text=True).stdout)
    token = next(u["api_token"] for u in seeded["users"] if u["role"] == "operations")
    shop = next(c for c in seeded["connections"] if c["platform"] == "shopify")
    store = next(c for c in seeded["connections"] if c["platform"] == "bigcommerce")
    port = _free_port()
    demo = subprocess.Popen(
        ["bash", "scripts/demo.sh"], cwd=root, env=env | {"DEMO_DB": str(database), "DEMO_PORT": str(port)},
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not any("Press Ctrl-C" in line for line in lines) and time.monotonic() < deadline:
            assert demo.poll() is None, "".join(lines)
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10) as response:
            assert 'name="password"' in response.read().decode()
        # Without DEBUG, as a new user meets it: the friendly 404, never the debug 404's URL list; styles still served.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/", timeout=10)
        page = missing.value.read().decode()
        assert missing.value.code == 404 and "We can't find that page" in page and "URLconf" not in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/console.css", timeout=10) as response:
            assert response.status == 200
        children = subprocess.run(["pgrep", "-s", str(demo.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 3  # the script, the web server and the worker
        created = _post_json(
            f"{shop['simulator_url']}/_sim/orders", {"line_items": [{"sku": "TEE-M-BLUE", "quantity": 1}]}
        )
        assert [w["status"] for w in created["webhooks"]] == [200], created["webhooks"]
        found = _poll_orders(
            f"http://127.0.0.1:{port}/api/v1/orders/?channel={shop['channel']}&platform_order_id={created['order']['id']}",
            token=token, within=60,
        )  # fmt: skip
        assert [(o["brand"], o["platform"], o["state"]) for o in found] == [(shop["brand"], "shopify", "accepted")]
        # BigCommerce's webhook only names the order: the worker fetches it from the simulator, then accepts it.
        created = _post_json(
            f"{store['simulator_url']}/_sim/orders", {"line_items": [{"sku": "SERUM-30ML", "quantity": 1}]}
        )
        assert [w["status"] for w in created["webhooks"]] == [200], created["webhooks"]
        found = _poll_orders(
            f"http://127.0.0.1:{port}/api/v1/orders/?channel={store['channel']}&platform_order_id={created['order']['id']}",
            token=token, within=60,
        )  # fmt: skip
        assert [(o["brand"], o["platform"], o["state"]) for o in found] == [(store["brand"], "bigcommerce", "accepted")]
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        demo.wait(timeout=60)
        reader.join(timeout=10)
    out = "".join(lines)
    assert "manager-demo-2026" in out and f"http://127.0.0.1:{port}/admin/" in out  # it printed how to log in
    assert _live_processes(session=demo.pid, within=10) == [], out


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _poll_orders(url: str, *, token: str, within: float) -> list[dict]:
    """The API's orders at `url` once there are some (the worker ingests the delivery a moment after it lands)."""
    deadline = time.monotonic() + within
    while True:
        request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            results = json.loads(response.read())["results"]
        if results or time.monotonic() > deadline:
            return results
        time.sleep(0.5)


def _live_processes(*, session: int, within: float) -> list[str]:
    """Processes of `session` still running (a zombie is dead, just not yet reaped) after waiting up to `within` s."""
    deadline = time.monotonic() + within
    while True:
        ps = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-s", str(session)], capture_output=True, text=True)
        live = [row.strip() for row in ps.stdout.splitlines() if not row.split()[1].startswith("Z")]
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.5)
