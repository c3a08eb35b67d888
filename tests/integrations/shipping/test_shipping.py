"""Issue 17 §2–§3 through the services against the DHL simulator: the rules choose the service, the label is bought
and kept (PDF and ZPL, SHA-256), the manifest closes, the hand-off waits for the carrier's own pickup scan, a label is
voided before hand-off and refused after, and every bad input is refused with its reason and changes nothing."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage

from integrations.shipping import services
from integrations.shipping.errors import CarrierRefused, ShippingHeld
from integrations.shipping.models import Label, Manifest, ShippingRule
from integrations.shipping.rules import rules_dry_run
from integrations.shipping.tasks import shipping_pickups_check
from orders.models import Order, OrderState, Parcel, Shipment, ShipmentState
from tests.conftest import grant
from tests.factories import UserFactory
from tests.integrations.shipping.conftest import packed_order
from warehouse.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def packer(db):
    return grant(
        UserFactory(username="packer"), "orders.operate_shipment", "orders.operate_order", "orders.view_shipment"
    )


def _rows():
    return (Shipment.objects.count(), Label.objects.count(), Manifest.objects.count(),
            list(Parcel.objects.values_list("shipment_id", "weight_grams").order_by("pk")))  # fmt: skip


def test_the_rules_choose_the_service_and_the_label_is_bought_and_kept(packed, dhl_account, eu_rule, dhl_sim, packer):
    shipped = services.order_ship(order=packed, actor=packer)

    shipment = shipped.shipment
    (label,) = shipped.labels
    assert (shipment.carrier, shipment.service, shipment.state) == ("dhl_parcel_de", "V01PAK", ShipmentState.STAGED)
    assert shipment.tracking_number == label.tracking_number and label.tracking_number in dhl_sim.parcels
    assert Parcel.objects.get(order=packed).shipment_id == shipment.pk
    files = {f.format: f for f in label.files.all()}
    assert set(files) == {"PDF", "ZPL"}
    pdf = default_storage.open(files["PDF"].path).read()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == label.sha256 == files["PDF"].sha256
    assert default_storage.open(files["ZPL"].path).read().startswith(b"^XA")
    assert Order.objects.get(pk=packed.pk).state == OrderState.PACKED  # a label is not a hand-off


def test_the_manifest_closes_and_the_hand_off_waits_for_the_carriers_pickup_scan(
    packed, dhl_account, eu_rule, dhl_sim, packer
):
    (label,) = services.order_ship(order=packed, actor=packer).labels
    manifest = services.manifest_close(account=dhl_account, actor=packer)
    assert list(manifest.labels.all()) == [label]
    assert dhl_sim.parcels[label.tracking_number]["state"] == "manifested"  # closed out at DHL too

    with pytest.raises(TransitionNotAllowed) as refused:
        services.handoff_record(actor=packer, manifest=manifest)
    assert [r.code for r in refused.value.reasons] == ["no_carrier_confirmation"]
    assert Shipment.objects.get().state == ShipmentState.STAGED

    assert shipping_pickups_check() == 0  # the scheduled check asks too, and finds nothing yet

    dhl_sim.scan(label.tracking_number)  # the carrier picks the parcel up
    assert shipping_pickups_check() == 1  # ... and hands the shipment over once it has

    shipment = Shipment.objects.get()
    with pytest.raises(InvalidInput):  # a person pressing the button afterwards changes nothing
        services.handoff_record(actor=packer, manifest=manifest)
    assert shipment.state == ShipmentState.HANDED_TO_CARRIER
    assert shipment.carrier_receipt.startswith("DHL Parcel DE scan ") and shipment.handed_at is not None
    assert Order.objects.get(pk=packed.pk).state == OrderState.DISPATCHED


def test_a_label_is_voided_before_hand_off_and_refused_after(brand, facility, dhl_account, eu_rule, dhl_sim, packer):
    first = packed_order(brand, facility)
    (label,) = services.order_ship(order=first, actor=packer).labels
    services.label_void(label=label, actor=packer, reason="wrong box")
    label.refresh_from_db()
    assert label.voided_at is not None and dhl_sim.parcels[label.tracking_number]["state"] == "cancelled"
    assert Parcel.objects.get(order=first).shipment_id is None

    # bought again: the staged shipment carries the new label, no second shipment
    (again,) = services.order_ship(order=first, actor=packer).labels
    assert Shipment.objects.filter(order=first).count() == 1
    dhl_sim.scan(again.tracking_number)
    services.handoff_record(actor=packer, labels=[again])
    with pytest.raises(TransitionNotAllowed) as refused:
        services.label_void(label=again, actor=packer)
    assert [r.code for r in refused.value.reasons] == ["handed_over"]
    again.refresh_from_db()
    assert again.voided_at is None


def test_bad_input_gets_a_clear_error_and_changes_nothing(brand, facility, dhl_account, eu_rule, dhl_sim, packer):
    order = packed_order(brand, facility)
    no_parcels = packed_order(brand, facility, parcels=())
    before, calls = _rows(), len(dhl_sim.requests)

    cases = [
        ({"order": no_parcels}, InvalidInput, "no_parcels"),
        ({"order": order, "weights": {1: 0}}, InvalidInput, "bad_weight"),
        ({"order": order, "weights": {1: -5}}, InvalidInput, "bad_weight"),
        ({"order": order, "carrier": "dhl_parcel_de", "service": "X99", "override_reason": "test"}, InvalidInput,
         "unknown_service"),
        ({"order": order, "carrier": "dhl_parcel_de", "service": "V62WP"}, InvalidInput, "override_reason_required"),
    ]  # fmt: skip
    for kwargs, error, code in cases:
        with pytest.raises(error) as refused:
            services.order_ship(actor=packer, **kwargs)
        assert code in [r.code for r in refused.value.reasons], kwargs
        assert refused.value.message

    not_packed = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(state=OrderState.PICKED)  # a label request before packing
    with pytest.raises(TransitionNotAllowed) as refused:
        services.order_ship(order=Order.objects.get(pk=not_packed.pk), actor=packer)
    assert [r.code for r in refused.value.reasons] == ["order_not_packed"]

    with pytest.raises(NotPermitted):
        services.order_ship(order=no_parcels, actor=UserFactory(username="reader"))
    assert _rows() == before and len(dhl_sim.requests) == calls
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.ORDER_ON_HOLD).exists()


def test_customs_data_missing_outside_the_customs_union_holds_the_order_and_buys_nothing(
    brand, facility, dhl_account, dhl_sim, packer
):
    ShippingRule.objects.create(name="World", zone="outside", carrier="dhl_parcel_de", service="V53WPAK")
    order = packed_order(brand, facility, code="MUG", country="CH", postal_code="8001")
    before = _rows()

    with pytest.raises(ShippingHeld) as held:
        services.order_ship(order=order, actor=packer)

    assert [r.code for r in held.value.reasons] == ["customs_data_missing"]
    assert "SKU MUG: customs value, country of origin missing" in held.value.message
    item = ExceptionItem.objects.get(kind=ExceptionKind.ORDER_ON_HOLD, object_id=order.pk)
    assert "customs" in item.summary
    assert _rows() == before and dhl_sim.parcels == {}


def test_an_order_no_rule_covers_is_held_with_the_reason_never_a_guessed_service(
    brand, facility, dhl_account, eu_rule, dhl_sim, packer
):
    order = packed_order(brand, facility, country="IT", postal_code="00100")  # the rule covers ES, DE, FR, AT
    with pytest.raises(ShippingHeld) as held:
        services.order_ship(order=order, actor=packer)
    assert [r.code for r in held.value.reasons] == ["no_shipping_rule"]
    assert "no shipping rule covers this order" in held.value.message and "to IT" in held.value.message
    assert ExceptionItem.objects.filter(kind=ExceptionKind.ORDER_ON_HOLD, object_id=order.pk).count() == 1
    assert not Shipment.objects.exists() and dhl_sim.parcels == {}


def test_a_carrier_refusal_names_the_carriers_message_and_keeps_nothing(brand, facility, dhl_account, eu_rule, packer):
    order = packed_order(brand, facility, postal_code="00000")  # the simulators' undeliverable address
    with pytest.raises(CarrierRefused) as refused:
        services.order_ship(order=order, actor=packer)
    assert refused.value.http_status == 422
    assert "DHL Parcel DE refused the label" in refused.value.message
    assert not Shipment.objects.exists() and not Label.objects.exists()


def test_the_dry_run_shows_the_service_under_the_proposed_rules(brand, facility, eu_rule):
    to_germany = packed_order(brand, facility, country="DE", postal_code="53113")
    heavy = packed_order(brand, facility, parcels=((25000, 600, 400, 400),))
    ShippingRule.objects.create(name="Heavy by UPS", priority=10, min_weight_grams=20000, carrier="ups", service="11",
                                active=False, proposed=True)  # fmt: skip

    rows = {row.order.pk: row for row in rules_dry_run()}

    assert rows[to_germany.pk].now.label == rows[to_germany.pk].proposed.label == "dhl_parcel_de V01PAK (DHL Paket)"
    assert rows[heavy.pk].changed and rows[heavy.pk].proposed.label == "ups 11 (UPS Standard)"


def test_ups_outside_the_customs_union_with_customs_data_buys_a_zpl_label_and_a_pdf_reprint(brand, facility, packer):
    from decimal import Decimal

    from integrations.carriers.accounts import carrier_account_set_credentials
    from integrations.carriers.models import CarrierAccount
    from integrations.carriers.registry import connector_for
    from inventory.models import Sku

    ups = connector_for("ups")
    credentials = ups.demo_credentials(lambda n: f"{n}-tests-only")
    ShippingRule.objects.create(name="World by UPS", zone="outside", carrier="ups", service="65")
    order = packed_order(brand, facility, code="MUG", country="CH", postal_code="8001")
    Sku.objects.filter(brand=brand, code="MUG").update(
        hs_code="691200", customs_value=Decimal("12.50"), country_of_origin="PT"
    )
    with ups.simulator(credentials=credentials).running() as sim:
        account = CarrierAccount.objects.create(carrier="ups", name="UPS VLC1", facility=facility, api_base_url=sim.url)
        carrier_account_set_credentials(account=account, credentials=credentials, actor=None)

        (label,) = services.order_ship(order=order, actor=packer).labels

    assert (label.carrier, label.service, label.format) == ("ups", "65", "ZPL")
    files = {f.format: default_storage.open(f.path).read() for f in label.files.all()}
    assert files["ZPL"].startswith(b"^XA") and files["PDF"].startswith(b"%PDF")
    assert label.cost is not None and label.currency


@pytest.mark.parametrize(
    ("origin", "destination", "needed"),
    [
        ("ES", "ES", False),  # domestic
        ("ES", "DE", False),  # inside the EU customs union
        ("ES", "CH", True),  # leaving it
        ("US", "US", False),  # a US facility's domestic parcel needs no customs data
        ("US", "DE", True),  # entering the union from outside
        ("GB", "CH", True),
        ("", "CH", True),  # a facility without a country: whenever the parcel leaves the union
        ("", "FR", False),
    ],
)
def test_customs_data_is_needed_when_the_parcel_crosses_a_customs_border(origin, destination, needed):
    from integrations.shipping.customs import needs_customs
    from warehouse.models import Facility

    assert needs_customs(Order(delivery_country=destination), Facility(country=origin)) is needed
