"""Issue 16 §1: expected inbound (ASN/PO) with lines, received by line or by scan through barcodes' legacy windows
and aliases' windows; over, short and unexpected units held for a manager's decision, each an exception naming the
variance; a SKU not ready is refused naming the missing step; bad input changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import (
    Barcode,
    ExpectedInbound,
    InboundState,
    Movement,
    SkuAlias,
    StockLevel,
    Variance,
    VarianceState,
)
from inventory.receiving import (
    expected_inbound_create,
    inbound_finish,
    inbound_receive_line,
    inbound_receive_scan,
    inbound_variance_decide,
)
from inventory.signals import stock_received
from tests.factories import UserFactory
from tests.inventory.factories import DefinedSkuFactory, SkuFactory
from tests.permissions.fixtures import make_role_user
from warehouse.errors import Conflict, InvalidInput, NotPermitted
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)


def _codes(excinfo):
    return {r.code for r in excinfo.value.reasons}


@pytest.fixture
def people(brand):
    roles_sync()
    return {
        "mgr": make_role_user("warehouse_manager", username="mgr"),
        "ops": make_role_user("operations", username="ops"),
        "fin": make_role_user("finance", username="fin"),
        "brand": make_role_user("brand", brand=brand, username="acme-user"),
    }


@pytest.fixture
def skus(brand):
    tee = SkuFactory(brand=brand, code="TEE-M", barcode="8400000000017")
    mug = SkuFactory(brand=brand, code="MUG", barcode="8400000000024")
    return tee, mug


def _inbound(brand, facility, actor, lines, reference="ASN-1"):
    return expected_inbound_create(
        brand=brand, facility=facility, reference=reference, expected_on=TODAY, lines=lines, actor=actor
    )


def _on_hand(sku, facility):
    level = StockLevel.objects.filter(sku=sku, facility=facility).first()
    return level.on_hand if level else 0


def test_a_brand_user_announces_an_inbound_for_their_brand_only(people, brand, other_brand, facility, skus):
    inbound = _inbound(brand, facility, people["brand"], [("TEE-M", 10), ("MUG", "4")])
    assert inbound.source == "brand" and inbound.lines.count() == 2
    with pytest.raises(NotPermitted):
        _inbound(other_brand, facility, people["brand"], [("TEE-M", 1)], reference="X")
    with pytest.raises(NotPermitted):
        _inbound(brand, facility, people["ops"], [("TEE-M", 1)], reference="Y")
    assert _inbound(brand, facility, people["mgr"], [("MUG", 1)], reference="PO-9").source == "manager"


@pytest.mark.parametrize(
    "lines, code",
    [
        ([("TEE-M", 0)], "quantity_not_positive"),
        ([("TEE-M", -3)], "quantity_not_positive"),
        ([("NOPE", 1)], "unknown_sku"),
        ([("TEE-M", 1), ("TEE-M", 2)], "duplicate_sku"),
        ([], "lines_required"),
    ],
)
def test_a_bad_inbound_is_refused_whole_and_creates_nothing(people, brand, facility, skus, lines, code):
    with pytest.raises(InvalidInput) as excinfo:
        _inbound(brand, facility, people["mgr"], [("MUG", 1), *lines] if lines else [])
    assert code in _codes(excinfo)
    assert not ExpectedInbound.objects.exists()


def test_a_reference_already_used_by_the_brand_is_a_conflict(people, brand, facility, skus):
    _inbound(brand, facility, people["mgr"], [("MUG", 1)])
    with pytest.raises(Conflict) as excinfo:
        _inbound(brand, facility, people["mgr"], [("MUG", 1)])
    assert "reference_in_use" in _codes(excinfo)


def test_receipt_by_line_and_by_scan_with_over_short_and_unexpected_decided_by_a_manager(people, brand, facility, skus):
    tee, mug = skus
    extra = SkuFactory(brand=brand, code="CAP", barcode="8400000000031")
    heard = []
    stock_received.connect(lambda **kw: heard.append(kw["sku_ids"]), weak=False, dispatch_uid="test-heard")
    try:
        inbound = _inbound(brand, facility, people["mgr"], [("TEE-M", 10), ("MUG", 5)])
        tee_line, mug_line = inbound.lines.order_by("number")
        receipt = inbound_receive_line(line=tee_line, quantity=12, actor=people["ops"])
        assert (receipt.into_stock, receipt.held) == (10, 2)
        for _ in range(3):
            inbound_receive_scan(inbound=inbound, code="8400000000024", actor=people["ops"])
        unexpected = inbound_receive_scan(inbound=inbound, code="CAP", actor=people["ops"], quantity=2)
    finally:
        stock_received.disconnect(dispatch_uid="test-heard")
    assert unexpected.line.unexpected and unexpected.held == 2
    assert _on_hand(tee, facility) == 10 and _on_hand(mug, facility) == 3 and _on_hand(extra, facility) == 0
    assert heard == [[tee.pk], [mug.pk], [mug.pk], [mug.pk]]
    inbound.refresh_from_db()
    assert inbound.state == InboundState.RECEIVING
    inbound = inbound_finish(inbound=inbound, actor=people["ops"])
    assert inbound.state == InboundState.RECEIVING, "three variances wait for a decision"
    open_items = ExceptionItem.objects.filter(kind=ExceptionKind.RECEIVING_VARIANCE, state=ExceptionState.OPEN)
    summaries = sorted(item.summary for item in open_items)
    assert summaries == [
        "ASN-1 line 1, TEE-M: over: expected 10, received 12 (+2 held)",
        "ASN-1 line 2, MUG: short: expected 5, received 3 (-2)",
        "ASN-1 line 3, CAP: unexpected: not on the inbound, 2 received and held",
    ]
    with pytest.raises(NotPermitted):
        inbound_variance_decide(line=tee_line, decision="accept", note="ok", actor=people["ops"])
    inbound_variance_decide(line=tee_line, decision="accept", note="Supplier sent 2 extra; keep", actor=people["mgr"])
    inbound_variance_decide(line=mug_line, decision="accept", note="Rest cancelled", actor=people["mgr"])
    inbound_variance_decide(line=unexpected.line, decision="reject", note="Not ours: sent back", actor=people["mgr"])
    assert _on_hand(tee, facility) == 12 and _on_hand(mug, facility) == 3 and _on_hand(extra, facility) == 0
    inbound.refresh_from_db()
    assert inbound.state == InboundState.CLOSED
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.RECEIVING_VARIANCE, state=ExceptionState.OPEN).exists()
    cap = inbound.lines.get(sku=extra)
    assert (cap.quantity_refused, cap.variance_state) == (2, VarianceState.REJECTED)
    assert Movement.objects.filter(kind="receive").count() == 5  # 10 + 3 scans + 2 accepted; nothing silent


def test_scans_resolve_through_legacy_barcodes_and_alias_windows(people, brand, facility, skus):
    tee, _mug = skus
    Barcode.objects.create(sku=tee, value="OLD-EAN", is_legacy=True, valid_until=timezone.now() - dt.timedelta(days=1))
    now = timezone.now()
    SkuAlias.objects.create(brand=brand, sku=tee, code="TEE-OLD", valid_from=now - dt.timedelta(days=1),
                            valid_until=now + dt.timedelta(days=5))  # fmt: skip
    SkuAlias.objects.create(brand=brand, sku=tee, code="TEE-RETIRED", valid_from=now - dt.timedelta(days=60),
                            valid_until=now - dt.timedelta(days=30))  # fmt: skip
    inbound = _inbound(brand, facility, people["mgr"], [("TEE-M", 10)])
    legacy = inbound_receive_scan(inbound=inbound, code="OLD-EAN", actor=people["ops"])
    assert [w.code for w in legacy.warnings] == ["legacy_barcode"]
    alias = inbound_receive_scan(inbound=inbound, code="TEE-OLD", actor=people["ops"])
    assert [w.code for w in alias.warnings] == ["alias_used"] and alias.line.sku == tee
    before = _on_hand(tee, facility)
    with pytest.raises(InvalidInput) as excinfo:
        inbound_receive_scan(inbound=inbound, code="TEE-RETIRED", actor=people["ops"])
    assert "alias_expired" in _codes(excinfo) and "use TEE-M" in excinfo.value.message
    with pytest.raises(InvalidInput) as excinfo:
        inbound_receive_scan(inbound=inbound, code="9999999999999", actor=people["ops"])
    assert "unknown_barcode" in _codes(excinfo)
    for bad in (0, -1, "x"):
        with pytest.raises(InvalidInput) as excinfo:
            inbound_receive_scan(inbound=inbound, code="TEE-M", actor=people["ops"], quantity=bad)
        assert "quantity_not_positive" in _codes(excinfo)
    assert _on_hand(tee, facility) == before and inbound.lines.count() == 1


def test_receiving_into_a_sku_not_ready_names_the_missing_step(people, brand, facility):
    draft = DefinedSkuFactory(brand=brand, code="NEW", title="New")
    inbound = _inbound(brand, facility, people["mgr"], [("NEW", 3)])
    with pytest.raises(Conflict) as excinfo:
        inbound_receive_line(line=inbound.lines.get(), quantity=3, actor=people["ops"])
    assert "missing step: Assign variants" in excinfo.value.message
    assert not Movement.objects.filter(sku=draft).exists()


def test_a_short_line_kept_open_waits_for_the_rest(people, brand, facility, skus):
    tee, _ = skus
    inbound = _inbound(brand, facility, people["mgr"], [("TEE-M", 4)])
    line = inbound.lines.get()
    inbound_receive_line(line=line, quantity=1, actor=people["ops"])
    inbound_finish(inbound=inbound, actor=people["ops"])
    inbound_variance_decide(line=line, decision="reject", note="Rest on the next truck", actor=people["mgr"])
    line.refresh_from_db()
    inbound.refresh_from_db()
    assert line.variance == Variance.NONE and inbound.state == InboundState.RECEIVING and inbound.finished_at is None
    inbound_receive_line(line=line, quantity=3, actor=people["ops"])
    assert inbound_finish(inbound=inbound, actor=people["ops"]).state == InboundState.CLOSED
    assert _on_hand(tee, facility) == 4


def test_finance_and_strangers_receive_nothing(people, brand, facility, skus):
    inbound = _inbound(brand, facility, people["mgr"], [("TEE-M", 4)])
    for who in (people["fin"], people["brand"], UserFactory(username="nobody")):
        with pytest.raises(NotPermitted):
            inbound_receive_line(line=inbound.lines.get(), quantity=1, actor=who)
    assert not Movement.objects.exists()


def test_a_preorder_schedule_refers_to_the_expected_inbound_line_it_arrives_on(people, brand, facility, skus):
    from orders.allocation.services import preorder_schedule_create

    tee, _ = skus
    inbound = _inbound(brand, facility, people["mgr"], [("TEE-M", 40)])
    line = inbound.lines.get()
    schedule = preorder_schedule_create(line=line, preorder_limit=30, actor=people["mgr"])
    assert line.preorder_schedule == schedule
    # One model, not two: the SKU, facility, date and quantity are the line's.
    assert (schedule.sku, schedule.facility, schedule.expected_on, schedule.quantity) == (tee, facility, TODAY, 40)


def test_a_variance_is_not_closed_from_the_queue_without_deciding_its_line(client, people, brand, facility, skus):
    """Bulk-resolving in the exception queue (or the API) would close the variance with its units still held."""
    inbound = _inbound(brand, facility, people["mgr"], [("TEE-M", 10)])
    line = inbound.lines.get()
    inbound_receive_line(line=line, quantity=12, actor=people["ops"])
    item = ExceptionItem.objects.get(kind=ExceptionKind.RECEIVING_VARIANCE, state=ExceptionState.OPEN)
    client.force_login(people["mgr"])
    page = client.post("/exceptions/", {"ids": [item.pk], "action": "resolve", "note": "fine"}, follow=True)
    assert "decided on its own page" in page.content.decode()
    api = client.post(f"/api/v1/exceptions/{item.pk}/resolve/", {"note": "fine"}, content_type="application/json")
    assert api.status_code == 409 and api.json()["reasons"][0]["code"] == "decided_on_its_page"
    item.refresh_from_db()
    assert item.state == ExceptionState.OPEN
    inbound_variance_decide(line=line, decision="accept", note="Supplier sent 2 extra; keep", actor=people["mgr"])
    item.refresh_from_db()
    assert item.state == ExceptionState.RESOLVED and _on_hand(skus[0], facility) == 12
