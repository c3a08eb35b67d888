"""The SLA credits and the rate-card billing of a seeded month match figures computed by hand (tests/reports/seed.py
says how each is made)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reports.finance.billing import BillingReport
from reports.finance.filters import report_filter
from reports.finance.sla import SlaOrdersReport, SlaReport
from reports.finance.volume import VolumeReport
from tests.reports.seed import seed_billing, seed_month

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(make_user):
    return make_user("finance", username="fin")


def test_sla_attainment_and_credits_per_month(finance):
    seed_month()
    f = report_filter({"from": "2026-10-01", "to": "2026-11-30"}, finance)

    rows = list(SlaReport().rows(f))

    assert [r[:8] for r in rows] == [
        ("2026-10", "Acme", "Acme shop", 20, 19, 1, 0, Decimal("95.00")),
        ("2026-11", "Acme", "Acme shop", 10, 8, 2, 0, Decimal("80.00")),
    ]
    # October: 95 % is below 99 % only → 1 late × 1.00; November: 80 % is below 85 % → 2 late × 3.00
    assert [r[8] for r in rows] == [Decimal("1.00"), Decimal("6.00")]


def test_sla_per_order_names_each_late_order(finance):
    seed_month()
    f = report_filter({"from": "2026-11-01", "to": "2026-11-30"}, finance)

    rows = list(SlaOrdersReport().rows(f))

    assert len(rows) == 10  # the cancelled order is not measured
    assert sorted(r[0] for r in rows if r[6] == "late") == ["NOV-0", "NOV-1"]
    assert {r[5] for r in rows if r[0] == "NOV-0"} == {Decimal("48.00")}  # paid 24 h before ship-by, handed 24 h after


def test_billing_priced_by_the_card_in_force_each_day(finance):
    brand, _, facility = seed_month()
    seed_billing(brand, facility)
    f = report_filter({"from": "2026-10-31", "to": "2026-11-30"}, finance)

    rows = {(r[0], r[2]): r for r in BillingReport().rows(f)}

    assert rows[("2026-10", "Units received")][3:6] == (5, "no rate card for 5", Decimal("0.00"))
    assert rows[("2026-11", "Units received")][3:6] == (100, "0.1000", Decimal("10.00"))
    assert rows[("2026-11", "Units picked")][3:6] == (14, "varies (card changed)", Decimal("3.70"))
    assert rows[("2026-11", "Orders packed")][3:6] == (3, "1.2000", Decimal("3.60"))
    assert rows[("2026-11", "Shipments handed to carriers")][3:6] == (10, "0.8000", Decimal("8.00"))
    assert rows[("2026-11", "Storage (unit-days)")][3:6] == (3000, "0.0100", Decimal("30.00"))
    november = sum(r[5] for (month, _), r in rows.items() if month == "2026-11")
    assert november == Decimal("55.30")


def test_volume_counts_each_event_on_its_day(finance):
    seed_month()
    f = report_filter({"from": "2026-11-01", "to": "2026-11-30"}, finance)

    rows = list(VolumeReport().rows(f))

    assert sum(r[4] for r in rows) == 10  # shipped in November: the ten November hand-offs (two of them late)
    assert sum(r[3] for r in rows) == 11  # received in November: the November orders (+ the cancelled one)


def test_a_brand_user_sees_only_their_brand(make_user):
    acme, _, _ = seed_month()
    seed_month(brand_name="Other", slug="other")
    brand_user = make_user("brand", brand=acme)

    rows = list(SlaReport().rows(report_filter({"from": "2026-10-01", "to": "2026-11-30"}, brand_user)))

    assert {r[1] for r in rows} == {"Acme"}
