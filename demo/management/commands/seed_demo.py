"""Demo data, built through the services so the demo is honest: every state was reached by its transitions, every
unit of stock has its ledger rows. Idempotent: each object is looked up by its natural key (slug, code, username,
RMA number) and created only when missing, stock events use fixed event ids (a replay is a no-op), and the whole run
is one transaction, so a second run changes nothing and prints the same summary.

`--json` prints one JSON object (users with their demo passwords, roles and API tokens, brands, facilities, the
demo platform connections with their signing secrets, counts per state) so scripts and browser tests can log in and
`scripts/demo.sh` can start each simulator for its connection. The demo's secrets and tokens are derived from
SECRET_KEY (an HMAC per name), so a second run finds them already in place and prints the same values; they appear
in that JSON only, never in logs or history."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings

from integrations.carriers import registry as carriers
from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.models import Connection
from integrations.platforms.registry import connector_for
from integrations.services import connection_create, connection_set_credentials, connection_set_signing_secret
from integrations.shipping.models import ShippingRule
from integrations.vault import fingerprint
from inventory.models import Sku, SkuAlias, SkuState, StockLevel
from inventory.services import (
    catalog_drift_open_exceptions,
    kit_set_components,
    sku_assign_barcode,
    sku_assign_variants,
    sku_change_code,
    sku_create,
    sku_lock_pack_configuration,
    sku_mark_ready_for_receiving,
    stock_receive,
)
from orders.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import Order, OrderLine, OrderSource, OrderState, Parcel
from orders.services import (
    order_cancel,
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_pick,
    order_release_to_pick,
    order_short_pick,
    order_validate,
    shipment_create,
    shipment_hand_to_carrier,
    shipment_record_scan,
)
from returns.models import Disposition, Return, ReturnState
from returns.services import (
    return_authorize,
    return_complete,
    return_dispose,
    return_initiate,
    return_mark_shipped_back,
    return_receive,
    return_restock,
    return_rework,
    return_triage,
    return_triage_units,
)
from warehouse.models import Brand, ExceptionItem, ExceptionState, Facility
from warehouse.roles import ADMINISTRATOR, BRAND, FINANCE, OPERATIONS, WAREHOUSE_MANAGER, brand_member_add
from warehouse.transitions import transition_apply

BRANDS = [("acme", "Acme Apparel"), ("borealis", "Borealis Beauty")]

FACILITIES = [
    {"code": "VLC1", "name": "Valencia (Riba-roja de Túria)", "street": "Carrer de la Rambleta 12",
     "postal_code": "46190", "city": "Riba-roja de Túria", "country": "ES", "time_zone": "Europe/Madrid"},
    {"code": "LEJ1", "name": "Leipzig (Schkeuditz)", "street": "Logistikring 4", "postal_code": "04435",
     "city": "Schkeuditz", "country": "DE", "time_zone": "Europe/Berlin"},
]  # fmt: skip

# One connection per demo brand, on the platform whose simulator `scripts/demo.sh` starts on the port that
# `settings.DEMO_SIMULATOR_PORTS` names; `shop` is what the simulator's deliveries carry (a shop domain, a site URL).
CONNECTIONS = [
    ("acme", "shopify", "acme-demo.myshopify.com"),
    ("borealis", "woocommerce", "https://borealis-demo.example"),
    # Borealis's second storefront: a BigCommerce store (its `shop` is the store hash).
    ("borealis", "bigcommerce", "borealisdemo"),
]


def simulator_url(platform: str) -> str:
    return f"http://127.0.0.1:{settings.DEMO_SIMULATOR_PORTS[platform]}"


def carrier_simulator_url(carrier: str) -> str:
    return f"http://127.0.0.1:{settings.DEMO_CARRIER_PORTS[carrier]}"


# The service rules the demo starts with (issue 17 §2): next-day by UPS Express, DHL at home and in the EU up to
# DHL's 31.5 kg, UPS beyond the customs union. A heavier parcel inside the EU matches none: it is held, never guessed.
SHIPPING_RULES = [
    {"name": "Next day: UPS Express", "priority": 10, "requirement": "next_day", "carrier": "ups", "service": "07"},
    {"name": "Domestic: DHL Paket", "priority": 50, "zone": "domestic", "max_weight_grams": 31500,
     "carrier": "dhl_parcel_de", "service": "V01PAK"},
    {"name": "EU: DHL Europaket", "priority": 60, "zone": "customs_union", "max_weight_grams": 31500,
     "carrier": "dhl_parcel_de", "service": "V54EPAK"},
    {"name": "Outside the EU: UPS Worldwide Saver", "priority": 70, "zone": "outside", "carrier": "ups",
     "service": "65"},
]  # fmt: skip
PACKAGING_GRAMS = 150  # the carton and its filling, on top of the goods


# username, role, brand slug (brand users only), password. Fixed on purpose: this is demo data, never production.
USERS = [
    ("ops", OPERATIONS, None, "ops-demo-2026"),
    ("manager", WAREHOUSE_MANAGER, None, "manager-demo-2026"),
    ("admin", ADMINISTRATOR, None, "admin-demo-2026"),
    ("finance", FINANCE, None, "finance-demo-2026"),
    ("acme", BRAND, "acme", "acme-demo-2026"),
    ("borealis", BRAND, "borealis", "borealis-demo-2026"),
]


@dataclass(frozen=True)
class SkuSpec:
    code: str
    title: str
    weight: int | None
    dims: tuple[int, int, int] | None
    hs_code: str = ""
    parent: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    kit: tuple[tuple[str, int], ...] = ()  # components (code, quantity) when this is a kit
    ready: bool = True  # walk the lifecycle to ready for receiving
    renamed_from: str = ""  # created under this code, then renamed: the old code stays an alias for 30 days


CATALOG: dict[str, list[SkuSpec]] = {
    "acme": [
        *(SkuSpec(f"TEE-{size}-BLUE", f"Organic tee, blue, {size}", 180, (300, 250, 20), "610910", parent="TEE",
                  attributes={"size": size, "colour": "blue"}) for size in ("S", "M", "L")),
        SkuSpec("CAP-RED", "Cotton cap, red", 90, (250, 200, 120), "650500"),
        SkuSpec("MUG-WHITE", "Stoneware mug, white", 350, (120, 120, 110), "691200", renamed_from="MUG-01"),
        SkuSpec("KIT-TEE-CAP", "Tee and cap bundle", 280, (320, 260, 130), "610910",
                kit=(("TEE-M-BLUE", 1), ("CAP-RED", 1))),
        SkuSpec("SCARF-GREY", "Merino scarf, grey", None, None, ready=False),  # catalog drift: no weight, size, HS
    ],
    "borealis": [
        SkuSpec("SERUM-30ML", "Vitamin C serum 30 ml", 95, (40, 40, 120), "330499"),
        SkuSpec("CREAM-50ML", "Night cream 50 ml", 140, (70, 70, 60), "330499"),
        *(SkuSpec(f"LIP-{shade.upper()}", f"Lipstick, {shade}", 20, (20, 20, 80), "330410", parent="LIP",
                  attributes={"shade": shade}) for shade in ("red", "nude")),
        SkuSpec("KIT-GLOW", "Glow routine (serum and cream)", 250, (120, 80, 130), "330499",
                kit=(("SERUM-30ML", 1), ("CREAM-50ML", 1))),
    ],
}  # fmt: skip

# (brand, facility, SKU code, units received)
STOCK = [
    ("acme", "VLC1", "TEE-S-BLUE", 40),
    ("acme", "VLC1", "TEE-M-BLUE", 60),
    ("acme", "VLC1", "TEE-L-BLUE", 25),
    ("acme", "VLC1", "CAP-RED", 45),
    ("acme", "VLC1", "MUG-WHITE", 30),
    ("acme", "LEJ1", "TEE-M-BLUE", 20),
    ("acme", "LEJ1", "CAP-RED", 15),
    ("acme", "LEJ1", "MUG-WHITE", 10),
    ("borealis", "LEJ1", "SERUM-30ML", 80),
    ("borealis", "LEJ1", "CREAM-50ML", 50),
    ("borealis", "LEJ1", "LIP-RED", 120),
    ("borealis", "LEJ1", "LIP-NUDE", 90),
    ("borealis", "VLC1", "SERUM-30ML", 24),
]


_VALENCIA = CanonicalAddress(name="Marta Puig", street1="Carrer de Colón 12", postal_code="46004", city="Valencia",
                             country="ES")  # fmt: skip
_NO_ZIP = CanonicalAddress(name="Jonas Weber", street1="Karl-Liebknecht-Str. 8", city="Leipzig", country="DE")
_BERLIN = CanonicalAddress(name="Lena Vogel", street1="Torstr. 101", postal_code="10119", city="Berlin", country="DE")

# The warehouse steps after acceptance, in order; an order spec stops at its target.
FULFILMENT = (
    OrderState.ACCEPTED,
    OrderState.PICKING,
    OrderState.PICKED,
    OrderState.PACKED,
    OrderState.DISPATCHED,
    OrderState.IN_TRANSIT,
    OrderState.DELIVERED,
)


@dataclass(frozen=True)
class OrderSpec:
    """One demo order and the state the seed walks it to through the order services."""

    pid: str
    target: str
    lines: tuple[tuple[str, object], ...]
    source: str = OrderSource.MANUAL
    address: CanonicalAddress = field(default_factory=lambda: _VALENCIA)
    phone: str = "+34 600 123 456"


ORDERS: dict[str, list[OrderSpec]] = {
    "acme": [
        OrderSpec("ACME-1001", OrderState.DELIVERED, (("TEE-M-BLUE", 1), ("CAP-RED", 1))),
        OrderSpec("ACME-1002", OrderState.IN_TRANSIT, (("KIT-TEE-CAP", 1),), source=OrderSource.FILE),
        OrderSpec("ACME-1003", OrderState.DISPATCHED, (("TEE-M-BLUE", 2),)),
        OrderSpec("ACME-1004", OrderState.PACKED, (("MUG-01", 1),)),  # the old code, inside its alias window
        OrderSpec("ACME-1005", OrderState.PICKED, (("CAP-RED", 1),)),
        OrderSpec("ACME-1006", OrderState.PICKING, (("TEE-M-BLUE", 1),)),
        OrderSpec("ACME-1007", OrderState.ACCEPTED, (("KIT-TEE-CAP", 1),), address=_BERLIN),
        OrderSpec("ACME-1008", OrderState.VALIDATED, (("CAP-RED", 300),)),  # short: validated, waiting for stock
        OrderSpec("ACME-1009", OrderState.RECEIVED, (("TEE-M-BLUE", 1),), phone=""),
        OrderSpec("ACME-1010", OrderState.ON_HOLD, (("TEE-XL-BLUE", 1), ("CAP-RED", 0)), address=_NO_ZIP, phone=""),
        OrderSpec("ACME-1011", OrderState.CANCELLED, (("TEE-M-BLUE", 1),)),
        # Short-picked: the picker found its cap's bin empty; held on the floor for a manager (pick page)
        OrderSpec("ACME-1012", OrderState.FLOOR_HOLD, (("TEE-M-BLUE", 1), ("CAP-RED", 1))),
    ],
    "borealis": [
        OrderSpec("BOR-5001", OrderState.DELIVERED, (("KIT-GLOW", 1),), address=_BERLIN),
        OrderSpec("BOR-5002", OrderState.ACCEPTED, (("SERUM-30ML", 1), ("LIP-NUDE", 2)), address=_BERLIN),
        OrderSpec("BOR-5003", OrderState.ON_HOLD, (("LIP-RED", 1000),), address=_BERLIN),  # short of stock
    ],
}


@dataclass(frozen=True)
class ReturnSpec:
    rma: str
    facility: str
    lines: tuple[tuple[str, int], ...]
    target: str
    reason: str
    grade: str = ""
    disposition: str = ""
    manual_triage: bool = False  # a manager triages by hand (a forced, recorded transition)
    order: str = ""  # the order id the units were shipped on
    units: tuple[tuple[str, str, str], ...] = ()  # (SKU, grade, disposition): units triaged one by one by a manager


RETURNS: dict[str, list[ReturnSpec]] = {
    "acme": [
        ReturnSpec("RMA-A-1001", "VLC1", (("TEE-S-BLUE", 1),), ReturnState.INITIATED, "Too small"),
        ReturnSpec("RMA-A-1002", "VLC1", (("TEE-L-BLUE", 1),), ReturnState.AUTHORIZED, "Changed mind"),
        ReturnSpec("RMA-A-1003", "VLC1", (("CAP-RED", 1),), ReturnState.SHIPPED_BACK, "Wrong colour"),
        ReturnSpec("RMA-A-1004", "VLC1", (("TEE-M-BLUE", 2),), ReturnState.RECEIVED, "Too large"),
        ReturnSpec("RMA-A-1005", "VLC1", (("MUG-WHITE", 1),), ReturnState.TRIAGED, "Arrived chipped", "C",
                   Disposition.REWORK),
        ReturnSpec("RMA-A-1006", "VLC1", (("TEE-M-BLUE", 1), ("CAP-RED", 1)), ReturnState.RESTOCKED,
                   "Gift not wanted", "A", Disposition.SELLABLE, order="ACME-1001"),
        ReturnSpec("RMA-A-1007", "VLC1", (("TEE-S-BLUE", 1),), ReturnState.REWORKED, "Loose seam", "C",
                   Disposition.REWORK),
        ReturnSpec("RMA-A-1008", "VLC1", (("MUG-WHITE", 1),), ReturnState.DISPOSED, "Broken in transit", "D",
                   Disposition.NONCONFORMING),
        ReturnSpec("RMA-A-1009", "LEJ1", (("CAP-RED", 1),), ReturnState.TRIAGED, "Not as pictured", "B",
                   Disposition.SELLABLE, manual_triage=True),
        ReturnSpec("RMA-A-1010", "VLC1", (("TEE-M-BLUE", 1), ("CAP-RED", 1)), ReturnState.COMPLETED, "Two sent",
                   units=(("TEE-M-BLUE", "A", Disposition.SELLABLE), ("CAP-RED", "C", Disposition.REWORK))),
    ],
    "borealis": [
        ReturnSpec("RMA-B-2001", "LEJ1", (("SERUM-30ML", 1),), ReturnState.RECEIVED, "Allergic reaction"),
        ReturnSpec("RMA-B-2002", "LEJ1", (("SERUM-30ML", 1), ("CREAM-50ML", 1)), ReturnState.RESTOCKED,
                   "Duplicate order", "A", Disposition.SELLABLE, order="BOR-5001"),
        ReturnSpec("RMA-B-2003", "LEJ1", (("CREAM-50ML", 1),), ReturnState.DISPOSED, "Seal broken", "D",
                   Disposition.NONCONFORMING),
    ],
}  # fmt: skip


class Seeder:
    def __init__(self) -> None:
        self.brands: dict[str, Brand] = {}
        self.facilities: dict[str, Facility] = {}
        self.users: dict[str, User] = {}
        self.connections: list[tuple[Connection, str]] = []  # with the demo signing secret, for --json only

    # -- people and places ---------------------------------------------------------------------------------------

    def roles(self) -> None:
        """The role groups and their permissions (roles as code); the groups exist even before sync_roles does."""
        call_command("sync_roles", stdout=_Discard())
        for role in (OPERATIONS, WAREHOUSE_MANAGER, ADMINISTRATOR, FINANCE, BRAND):
            Group.objects.get_or_create(name=role)

    def places(self) -> None:
        for slug, name in BRANDS:
            self.brands[slug] = Brand.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for spec in FACILITIES:
            values = dict(spec)
            self.facilities[spec["code"]] = Facility.objects.get_or_create(code=values.pop("code"), defaults=values)[0]

    def people(self) -> None:
        for username, role, brand_slug, password in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@demo.invalid", "is_staff": role != BRAND}
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            if brand_slug is not None:
                brand_member_add(user=user, brand=self.brands[brand_slug])
            # A fresh instance: the permission cache of the one above predates its groups.
            self.users[username] = User.objects.get(pk=user.pk)

    def tokens(self) -> dict[str, str]:
        """Each demo user's API token: derived, so knox's row (only the hash is stored) is created once and a second
        run prints the same value. Revoking it works as usual; the next seed run issues it again."""
        found: dict[str, str] = {}
        for username, *_rest in USERS:
            token = knox_settings.TOKEN_PREFIX + _derive(
                f"api-token:{username}", knox_settings.AUTH_TOKEN_CHARACTER_LENGTH
            )
            AuthToken.objects.get_or_create(
                digest=hash_token(token),
                defaults={
                    "token_key": token[: CONSTANTS.TOKEN_KEY_LENGTH],
                    "user": self.users[username],
                    "expiry": None,
                },
            )
            found[username] = token
        return found

    def integrations(self) -> None:
        """The demo connections, with credentials and signing secret set through the services (sealed at rest) only
        when their fingerprints differ from the derived values, so a re-run writes no history."""
        admin = self.users["admin"]
        for slug, platform, shop in CONNECTIONS:
            brand = self.brands[slug]
            connector = connector_for(platform)
            named = f"{brand.name} ({connector.name} demo)"
            # The simulator's port and the reconciler's cadence are settings: a re-run with other values moves the
            # connection there (recorded in its history), one with the same values writes nothing.
            wired = {
                "api_base_url": simulator_url(platform),
                "reconcile_every_minutes": settings.DEMO_RECONCILE_MINUTES,
            }
            found = Connection.objects.select_related("channel__brand").filter(channel__platform_code=platform)
            connection = found.filter(shop=shop).first()
            if connection is None:  # the brand's sales channel and its connection, made together
                connection = connection_create(
                    brand=brand, platform=platform, name=named, shop=shop, actor=admin, **wired
                )
            elif any(getattr(connection, k) != v for k, v in wired.items()):
                for name, value in wired.items():
                    setattr(connection, name, value)
                connection._change_reason = "demo simulator port or reconciler cadence changed"  # type: ignore[attr-defined]
                connection.save(update_fields=list(wired))
            name = f"connection:{platform}:{shop}"
            credentials = connector.demo_credentials(_seed_for(name))
            if connection.credentials_fingerprint != fingerprint(json.dumps(credentials, sort_keys=True)):
                connection = connection_set_credentials(connection=connection, credentials=credentials, actor=admin)
            secret = _derive(f"{name}:signing_secret", 48)
            if connection.signing_secret_fingerprint != fingerprint(secret):
                connection = connection_set_signing_secret(
                    connection=connection, secret=secret, actor=admin, window=None
                )
            self.connections.append((connection, secret))

    # -- catalog and stock ---------------------------------------------------------------------------------------

    def catalog(self) -> None:
        manager = self.users["manager"]
        for slug, specs in CATALOG.items():
            brand = self.brands[slug]
            for number, spec in enumerate(specs, start=1):
                if Sku.objects.filter(brand=brand, code=spec.code).exists():
                    continue
                dims = spec.dims or (None, None, None)
                sku = sku_create(
                    brand=brand, code=spec.renamed_from or spec.code, title=spec.title, actor=manager,
                    parent_code=spec.parent, variant_attributes=spec.attributes, weight_grams=spec.weight,
                    length_mm=dims[0], width_mm=dims[1], height_mm=dims[2], hs_code=spec.hs_code, is_kit=bool(spec.kit),
                )  # fmt: skip
                if spec.kit:
                    parts = [(Sku.objects.get(brand=brand, code=code), quantity) for code, quantity in spec.kit]
                    kit_set_components(kit=sku, components=parts, actor=manager)
                if spec.ready:
                    sku = sku_assign_variants(sku=sku, actor=manager)
                    sku = sku_lock_pack_configuration(sku=sku, actor=manager)
                    barcode = f"84{BRANDS.index((slug, brand.name)) + 1:02d}{number:09d}"
                    sku = sku_assign_barcode(sku=sku, value=barcode, actor=manager)
                    sku = sku_mark_ready_for_receiving(sku=sku, actor=manager)
                if spec.renamed_from:
                    sku_change_code(sku=sku, new_code=spec.code, actor=manager)

    def stock(self) -> None:
        manager = self.users["manager"]
        for slug, facility_code, code, quantity in STOCK:
            sku = Sku.objects.get(brand=self.brands[slug], code=code)
            stock_receive(
                sku=sku, facility=self.facilities[facility_code], quantity=quantity, actor=manager,
                event_id=f"demo:receive:{slug}:{code}:{facility_code}", reason="Demo inbound (ASN)",
            )  # fmt: skip

    # -- orders --------------------------------------------------------------------------------------------------

    def orders(self) -> None:
        """Each order arrives through `order_ingest` (which validates, allocates and accepts, or holds with every
        reason named), then walks on through the warehouse steps to its demo state."""
        ops, manager = self.users["ops"], self.users["manager"]
        now = timezone.now()
        path: list[str] = list(FULFILMENT)
        for slug, specs in ORDERS.items():
            brand = self.brands[slug]
            for number, spec in enumerate(specs):
                if Order.objects.filter(brand=brand, source=spec.source, platform_order_id=spec.pid).exists():
                    continue
                placed = now - dt.timedelta(hours=2 * (len(specs) - number))
                canonical = CanonicalOrder(
                    platform_order_id=spec.pid, updated_at=placed, status="paid", placed_at=placed, paid_at=placed,
                    address=spec.address, phone=spec.phone, email=f"{spec.pid.lower()}@customer.invalid",
                    lines=tuple(CanonicalLine(sku_code=code, quantity=qty) for code, qty in spec.lines),
                )  # fmt: skip
                order = order_ingest(canonical=canonical, brand=brand, source=spec.source, actor=None).order
                if spec.target == OrderState.VALIDATED:  # held short; a person re-validates it while stock is due
                    order = order_validate(order=order, actor=ops)
                elif spec.target == OrderState.RECEIVED:
                    # Held for its missing phone; the customer is calling back, so a manager sends it back to
                    # received (the `revise` step an edit takes) to be checked again when the phone arrives.
                    why = "Customer calls back with a phone number; check again then"
                    order = transition_apply(obj=order, name="revise", actor=manager, reason=why)
                elif spec.target == OrderState.CANCELLED:
                    order = order_cancel(order=order, actor=ops, reason="Customer cancelled by email")
                elif spec.target == OrderState.FLOOR_HOLD:
                    order = order_release_to_pick(order=order, actor=ops)
                    order = order_pick(order=order, code="TEE-M-BLUE", actor=ops)
                    short = order.pick_lines.get(sku__code="CAP-RED")
                    order_short_pick(order=order, pick_line=short.pk, actor=ops, note="the bin was empty")
                elif spec.target in path:
                    self._fulfil(order, reach=path.index(spec.target), path=path, at=placed)

    def _fulfil(self, order: Order, *, reach: int, path: list[str], at: dt.datetime) -> None:
        ops = self.users["ops"]

        def reached(state: str) -> bool:
            return path.index(state) > reach

        if reached(OrderState.PICKING):
            return
        order = order_release_to_pick(order=order, actor=ops)
        if reached(OrderState.PICKED):
            return
        order = order_confirm_picked(order=order, actor=ops)
        if reached(OrderState.PACKED):
            return
        order = order_pack(order=order, actor=ops)
        if reached(OrderState.DISPATCHED):  # packed: its carton waits for a label on the shipping desk
            self._carton(order)
            return
        tracking = f"JJD{order.pk:012d}"
        shipment = shipment_create(order=order, carrier="DHL", service="Paket", tracking_number=tracking, actor=ops)
        if reached(OrderState.DISPATCHED):
            return
        shipment = shipment_hand_to_carrier(
            shipment=shipment, carrier_receipt=f"DHL-PICKUP-{order.pk:06d}", handed_at=at + dt.timedelta(hours=1),
            actor=ops,
        )  # fmt: skip
        if reached(OrderState.IN_TRANSIT):
            return
        shipment = shipment_record_scan(shipment=shipment, status="in_transit", occurred_at=at + dt.timedelta(hours=2),
                                        description="Arrived at the hub", location="Leipzig")  # fmt: skip
        if reached(OrderState.DELIVERED):
            return
        shipment_record_scan(shipment=shipment, status="delivered", occurred_at=at + dt.timedelta(hours=3),
                             description="Delivered to the door", location="Valencia")  # fmt: skip

    def _carton(self, order: Order) -> None:
        """One weighed, measured carton, as the pack station records it."""
        lines = OrderLine.objects.filter(order=order, sku__isnull=False).select_related("sku")
        grams = PACKAGING_GRAMS
        for line in lines:
            grams += ((line.sku.weight_grams if line.sku else 0) or 0) * (line.quantity or 0)
        Parcel.objects.get_or_create(
            order=order,
            number=1,
            defaults={"weight_grams": grams, "length_mm": 350, "width_mm": 250, "height_mm": 150,
                      "packed_by": self.users["ops"]},
        )  # fmt: skip

    # -- shipping ------------------------------------------------------------------------------------------------

    def shipping(self) -> None:
        """A DHL and a UPS account at each facility, pointed at the carrier simulators `scripts/demo.sh` starts, and
        the service rules. Credentials are set through the carrier kit (sealed) only when they changed."""
        admin = self.users["admin"]
        for code in carriers.codes():
            credentials = carriers.connector_for(code).demo_credentials(_seed_for(f"carrier:{code}"))
            for facility in self.facilities.values():
                account = CarrierAccount.objects.filter(carrier=code, facility=facility, brand__isnull=True).first()
                if account is None:
                    name = f"{carriers.connector_for(code).name} {facility.code}"
                    account = CarrierAccount(
                        carrier=code, facility=facility, name=name, api_base_url=carrier_simulator_url(code)
                    )
                    account._history_user = admin  # type: ignore[attr-defined]
                    account.save()
                elif account.api_base_url != carrier_simulator_url(code):
                    account.api_base_url = carrier_simulator_url(code)
                    account._history_user = admin  # type: ignore[attr-defined]
                    account._change_reason = "demo carrier simulator port changed"  # type: ignore[attr-defined]
                    account.save(update_fields=["api_base_url"])
                if account.credentials_fingerprint != fingerprint(json.dumps(credentials, sort_keys=True)):
                    carrier_account_set_credentials(account=account, credentials=credentials, actor=admin)
        for spec in SHIPPING_RULES:
            if not ShippingRule.objects.filter(name=spec["name"]).exists():
                rule = ShippingRule(**spec)
                rule._history_user = admin  # type: ignore[attr-defined]
                rule._change_reason = "the demo's starting rules"  # type: ignore[attr-defined]
                rule.save()

    # -- returns -------------------------------------------------------------------------------------------------

    def returns(self) -> None:
        ops, manager = self.users["ops"], self.users["manager"]
        complete: dict[str, Callable[..., Return]] = {
            ReturnState.RESTOCKED: return_restock,
            ReturnState.REWORKED: return_rework,
            ReturnState.DISPOSED: return_dispose,
            ReturnState.COMPLETED: return_complete,
        }
        for slug, specs in RETURNS.items():
            brand = self.brands[slug]
            for spec in specs:
                if Return.objects.filter(brand=brand, rma_number=spec.rma).exists():
                    continue
                lines = [(Sku.objects.get(brand=brand, code=code), quantity) for code, quantity in spec.lines]
                order = Order.objects.filter(brand=brand, platform_order_id=spec.order).first() if spec.order else None
                rma = return_initiate(
                    brand=brand, rma_number=spec.rma, lines=lines, order=order, facility=self.facilities[spec.facility],
                    reason=spec.reason, actor=None,
                )  # fmt: skip
                path = list(ReturnState.values)
                reach = path.index(spec.target if spec.target not in complete else ReturnState.TRIAGED)

                def reached(state: str, reach: int = reach, path: list[str] = path) -> bool:
                    return path.index(state) > reach

                if reached(ReturnState.AUTHORIZED):
                    continue
                rma = return_authorize(rma=rma, actor=None, reason="Approved by the returns system")
                if reached(ReturnState.SHIPPED_BACK):
                    continue
                rma = return_mark_shipped_back(rma=rma, actor=None, reason="Carrier scan of the return label")
                if reached(ReturnState.RECEIVED):
                    continue
                rma = return_receive(rma=rma, actor=ops, reason="Logged in at the returns desk")
                if reached(ReturnState.TRIAGED):
                    continue
                if spec.units:  # each unit its own grade and disposition, on the return's page
                    for code, grade, disposition in spec.units:
                        rma = return_triage_units(
                            rma=rma, line=rma.lines.get(sku__code=code), quantity=1, grade=grade,
                            disposition=disposition, actor=manager, reason="Inspected unit by unit",
                        )  # fmt: skip
                elif spec.manual_triage:
                    rma = return_triage(
                        rma=rma, grade=spec.grade, disposition=spec.disposition, actor=manager, force=True,
                        reason="No decision from the returns system after 3 days; inspected by hand",
                    )  # fmt: skip
                else:
                    rma = return_triage(
                        rma=rma, grade=spec.grade, disposition=spec.disposition, actor=None,
                        reason="Disposition instruction from the returns system",
                    )  # fmt: skip
                if spec.target in complete:
                    complete[spec.target](rma=rma, actor=ops, reason="As triaged")

    # -- what the run leaves behind ------------------------------------------------------------------------------

    def summary(self, *, tokens: dict[str, str]) -> dict[str, Any]:
        stock = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), quarantine=Sum("quarantine"))
        base = f"http://127.0.0.1:{settings.DEMO_PORT}"
        return {
            "users": [
                {
                    "username": username,
                    "password": password,
                    "role": role,
                    "brand": brand,
                    "api_token": tokens[username],
                }
                for username, role, brand, password in USERS
            ],
            "brands": [{"id": b.pk, "name": b.name, "slug": b.slug} for b in self.brands.values()],
            "facilities": [
                {"id": f.pk, "code": f.code, "name": f.name, "country": f.country} for f in self.facilities.values()
            ],
            "catalog": {
                "skus": Sku.objects.filter(brand__in=self.brands.values()).count(),
                "kits": Sku.objects.filter(brand__in=self.brands.values(), is_kit=True).count(),
                "not_ready": Sku.objects.exclude(state=SkuState.READY_FOR_RECEIVING).count(),
                "aliases": [
                    {
                        "brand": a.brand.slug,
                        "old_code": a.code,
                        "code": a.sku.code,
                        "valid_until": a.valid_until.isoformat(),
                    }
                    for a in SkuAlias.objects.select_related("brand", "sku").order_by("brand__slug", "code")
                ],
            },
            "stock": {"on_hand": stock["on_hand"] or 0, "quarantine": stock["quarantine"] or 0},
            "orders": {"by_state": _by_state(Order.objects.values_list("state", flat=True), OrderState.values)},
            "returns": {"by_state": _by_state(Return.objects.values_list("state", flat=True), ReturnState.values)},
            "exceptions": {
                "open": ExceptionItem.objects.filter(state=ExceptionState.OPEN).count(),
                "by_kind": dict(
                    sorted(
                        Counter(
                            ExceptionItem.objects.filter(state=ExceptionState.OPEN).values_list("kind", flat=True)
                        ).items()
                    )
                ),
            },
            "connections": [
                {
                    "id": c.pk,
                    "channel": c.channel_id,
                    "brand": c.brand.slug,
                    "platform": c.platform,
                    "shop": c.shop,
                    "webhook_url": f"/webhooks/{c.platform}/{c.pk}/",
                    "signing_secret": secret,
                    "simulator_url": c.api_base_url,
                }
                for c, secret in self.connections
            ],
            "carriers": [
                {"carrier": code, "account": account.pk, "simulator_url": account.api_base_url}
                for code in carriers.codes()
                if (account := CarrierAccount.objects.filter(carrier=code).order_by("pk").first()) is not None
            ],
            "urls": {"console": f"{base}/", "admin": f"{base}/admin/", "api_docs": f"{base}/api/docs/"},
        }


def _seed_for(name: str) -> Callable[[str], str]:
    """The `seed(part)` a connector's `demo_credentials` takes: `_derive` under this connection's name."""
    return lambda part: _derive(f"{name}:{part}", 64)


def _derive(name: str, length: int) -> str:
    """A demo value (hex, `length` characters) fixed by SECRET_KEY and `name`: stable across runs, unguessable."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"seed_demo:{name}".encode(), hashlib.sha512).hexdigest()
    return digest[:length]


def _by_state(states: Any, order: list[str]) -> dict[str, int]:
    counts = Counter(states)
    return {state: counts.get(state, 0) for state in order}


class _Discard:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class Command(BaseCommand):
    help = "Create the demo brands, facilities, users, catalog, stock, orders and returns (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object (users with API tokens, connections, counts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seeder = Seeder()
        with transaction.atomic():
            seeder.roles()
            seeder.places()
            seeder.people()
            tokens = seeder.tokens()
            seeder.integrations()
            seeder.catalog()
            seeder.stock()
            seeder.shipping()
            seeder.orders()
            seeder.returns()
            catalog_drift_open_exceptions()  # the daily check, run now so the queue shows it
        summary = seeder.summary(tokens=tokens)
        if options["json"]:
            self.stdout.write(json.dumps(summary, sort_keys=False))
            return
        self.stdout.write("Demo data is in place.")
        for kind in ("orders", "returns"):
            states = ", ".join(f"{state} {count}" for state, count in summary[kind]["by_state"].items())
            self.stdout.write(f"  {kind}: {states}")
        self.stdout.write(f"  open exceptions: {summary['exceptions']['open']}")
        self.stdout.write(
            "Log in at {} (pages) or {} (admin) as:".format(summary["urls"]["console"], summary["urls"]["admin"])
        )
        for user in summary["users"]:
            brand = f" of {user['brand']}" if user["brand"] else ""
            self.stdout.write(f"  {user['username']:<10} password {user['password']:<20} {user['role']}{brand}")
