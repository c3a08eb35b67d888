"""A small world the policy table runs against: two brands, one user per role, one object of each kind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from integrations.onboarding import OnboardingItem
from inventory.models import (
    Barcode,
    CatalogOwnership,
    ExpectedInbound,
    ExpectedInboundLine,
    Movement,
    Sku,
    SkuAlias,
    StockLevel,
)
from inventory.proposals import count_propose
from inventory.receiving import expected_inbound_create
from inventory.services import stock_receive
from orders.allocation.models import AllocationPolicy, Cutoff
from orders.allocation.services import (
    allocation_policy_update,
    contract_reservation_create,
    cutoff_set,
    scheduled_inbound_create,
)
from orders.models import Order, Shipment
from returns import services as returns_services
from returns.models import Return
from tests.factories import BrandFactory, FacilityFactory
from tests.inventory.factories import DefinedSkuFactory, SkuFactory
from warehouse.api.tokens import token_issue
from warehouse.errors import Reason
from warehouse.models import ExceptionItem, ExceptionKind, TransitionRecord
from warehouse.services import exception_open

ROLE_OF_COLUMN = {"ops": "operations", "mgr": "warehouse_manager", "adm": "administrator", "fin": "finance"}


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    brand: Any = None
    other_brand: Any = None

    def client(self, column: str, *, api: bool) -> Any:
        user = self.users.get(column)
        if api:
            client = APIClient()
            if user is not None:
                client.credentials(HTTP_AUTHORIZATION=f"Token {self.tokens[column]}")
            return client
        client = Client()
        if user is not None:
            client.force_login(user)
        return client


# Extension points: the orders/returns parts of the world register builders here as their apps arrive.
BUILDERS: list[Any] = []


def build_world(make_user: Any) -> World:
    world = World()
    world.brand = BrandFactory(name="Acme Apparel", slug="acme")
    world.other_brand = BrandFactory(name="Borealis Beauty", slug="borealis")
    facility = FacilityFactory(code="VLC1", name="Valencia 1")
    for column, role in ROLE_OF_COLUMN.items():
        world.users[column] = make_user(role, username=column)
    world.users["brand"] = make_user("brand", brand=world.brand, username="acme-user")
    world.users["other"] = make_user("brand", brand=world.other_brand, username="borealis-user")
    world.tokens = {column: token_issue(user=user) for column, user in world.users.items()}
    world.objects["mgr_account"] = world.users["mgr"]  # the console's user pages act on an account
    world.objects["brand"] = world.brand  # the onboarding checklist's pages act on a brand

    world.objects["exception"] = exception_open(
        kind=ExceptionKind.ORDER_ON_HOLD,
        summary="Order #1 on hold",
        brand=world.brand,
        facility=facility,
        reasons=[Reason("missing_zip", "Delivery ZIP is missing")],
        dedupe_key="world:1",
    )
    sku = SkuFactory(brand=world.brand, code="TEE-M")
    other_sku = SkuFactory(brand=world.other_brand, code="SERUM")
    stock_receive(sku=sku, facility=facility, quantity=50, event_id="world-rcv-1", actor=None)
    stock_receive(sku=other_sku, facility=facility, quantity=5, event_id="world-rcv-2", actor=None)
    world.objects["sku"] = sku
    world.objects["draft_sku"] = DefinedSkuFactory(brand=world.brand, code="NEW-1")
    world.objects["stock"] = StockLevel.objects.get(sku=sku)
    world.objects["inbound"] = expected_inbound_create(
        brand=world.brand, facility=facility, reference="ASN-W1", expected_on=dt.date(2026, 12, 10),
        lines=[(sku, 5)], actor=None,
    )  # fmt: skip
    world.objects["reservation"] = contract_reservation_create(
        brand=world.brand, customer="World Retail", sku=sku, facility=facility, quantity=2, actor=None
    )
    world.objects["schedule"] = scheduled_inbound_create(
        brand=world.brand, sku=sku, facility=facility, quantity=10, preorder_limit=4, expected_on=dt.date(2026, 12, 20),
        reference="PRE-W1", actor=None,
    )  # fmt: skip
    other_stock = StockLevel.objects.get(sku=other_sku)
    world.objects["proposal"] = count_propose(
        level=other_stock, counted=4, reason="Shelf count", actor=world.users["ops"]
    )
    # the proposal is about the other brand's stock: make it the acme brand's for the brand columns' sake
    ExceptionItem.objects.filter(pk=world.objects["proposal"].pk).update(brand=world.brand)
    world.objects["return"] = returns_services.return_initiate(
        brand=world.brand, rma_number="RMA-1", lines=[(sku, 1)], actor=None, facility=facility
    )
    received = returns_services.return_initiate(
        brand=world.brand, rma_number="RMA-2", lines=[(sku, 1)], actor=None, facility=facility
    )
    for step in (
        returns_services.return_authorize,
        returns_services.return_mark_shipped_back,
        returns_services.return_receive,
    ):
        received = step(rma=received, actor=None)
    world.objects["received_return"] = received
    world.objects["received_return_line"] = received.lines.get()
    from orders import services as order_services
    from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line

    world.objects["held_order"] = order_services.order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#1001", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=world.brand,
    ).order
    packed = order_services.order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#1002", lines=(line("TEE-M"),)), brand=world.brand
    ).order
    for step in (order_services.order_release_to_pick, order_services.order_confirm_picked, order_services.order_pack):
        packed = step(order=packed, actor=None)
    world.objects["shipment"] = order_services.shipment_create(
        order=packed, carrier="DHL", actor=None, tracking_number="TRK1"
    )
    shipped = order_services.order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#1003", lines=(line("TEE-M"),)), brand=world.brand
    ).order
    for step in (order_services.order_release_to_pick, order_services.order_confirm_picked, order_services.order_pack):
        shipped = step(order=shipped, actor=None)
    handover = order_services.shipment_create(order=shipped, carrier="DHL", actor=None, tracking_number="TRK3")
    order_services.shipment_hand_to_carrier(
        shipment=handover, carrier_receipt="R3", handed_at=timezone.now(), actor=None
    )
    shipped.refresh_from_db()
    world.objects["shipped_order"] = shipped  # a return is authorised against it
    picking = order_services.order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#1020", lines=(line("TEE-M"),)), brand=world.brand
    ).order
    world.objects["picking_order"] = order_services.order_release_to_pick(order=picking, actor=None)
    world.objects["pick_line"] = picking.pick_lines.get()
    from inventory.counts import count_task_open

    world.objects["count_task"] = count_task_open(sku=sku, facility=facility, reason="world", actor=None)
    world.objects["policy"] = allocation_policy_update(brand=world.brand, actor=None, reason="world")
    world.objects["cutoff"] = cutoff_set(brand=world.brand, facility=facility, cutoff_time=dt.time(15), actor=None)
    from tests.integrations.factories import ConnectionFactory

    world.objects["connection"] = ConnectionFactory(brand=world.brand)  # the mapping editor's page acts on it
    from reports.models import ExportJob, RateCard, SlaCreditTier

    RateCard.objects.create(brand=world.brand, valid_from=dt.date(2026, 1, 1))
    SlaCreditTier.objects.create(brand=world.brand, attainment_below=99, credit_per_late_order=1)
    world.objects["export_job"] = ExportJob.objects.create(
        report="volume", file_format="csv", requested_by=world.users["fin"]
    )
    from integrations.alerts.incidents import incident_open
    from integrations.alerts.models import AlertRule
    from integrations.alerts.rules import rules_ensure_defaults

    rules_ensure_defaults()  # an incident's page acts on it
    world.objects["incident"] = incident_open(
        rule=AlertRule.objects.get(code="credentials-refused"),
        connection=world.objects["connection"],
        value=1.0,
        now=dt.datetime.now(dt.UTC),
    )[0]
    world.objects["brand"] = world.brand  # the brand SLO pages act on it
    from tests.permissions.shipping_world import build_shipping

    build_shipping(world, facility)
    from integrations.tracking.models import BrandTrackingSettings

    world.objects["tracking_settings"] = BrandTrackingSettings.objects.create(brand=world.brand)
    for build in BUILDERS:
        build(world, facility)
    return world


SNAPSHOT_MODELS: list[Any] = [
    OnboardingItem,
    ExceptionItem,
    StockLevel,
    Movement,
    TransitionRecord,
    Return,
    Order,
    Shipment,
    AllocationPolicy,
    Cutoff,
    Sku,
    SkuAlias,
    Barcode,
    CatalogOwnership,
    ExpectedInbound,
    ExpectedInboundLine,
]


def snapshot() -> dict[str, Any]:
    """Everything a request could change, so a denied request can be shown to have changed nothing."""
    rows = {model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS}
    rows["tokens"] = AuthToken.objects.count()
    return rows
