"""Issue 19: attainment, error budget and burn rate computed from a seeded history match the figures worked out by
hand below, including November with an incident; the scheduled evaluation opens one incident per burning SLO."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from reports.slo.budget import BURN_ALERTS, Budget, burn_rates, burning
from reports.slo.evaluation import slo_evaluate
from reports.slo.measures import BY_KEY, daily_counts, misses
from reports.slo.models import SloDay
from reports.slo.report import brand_report, month_report
from reports.slo.rollup import slo_minutes_rollup, slo_rollup
from reports.slo.statement import as_csv, as_pdf
from tests.integrations.factories import ConnectionFactory
from tests.reports.slo_history import at, found, fulfilment, order
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db

NOW = at("2026-11-30 12:00:30")
H = dt.timedelta(hours=1)


@pytest.fixture
def shop(brand):
    return ConnectionFactory(brand=brand, name="Acme Shopify")


def seed_ingest(shop):
    # 10 Nov: four minutes with orders.
    order(shop, at("2026-11-10 10:00:00"), 1)
    order(shop, at("2026-11-10 10:00:10"), 2)  # 10:00 good (median 1 s)
    order(shop, at("2026-11-10 10:01:00"), 8)
    order(shop, at("2026-11-10 10:01:10"), 2)  # 10:01 good: the lower median of [2 s, 8 s] is 2 s; 1 order missed
    order(shop, at("2026-11-10 10:02:00"), 9)  # 10:02 bad
    order(shop, at("2026-11-10 10:03:00"), None)  # 10:03 bad: never accepted, decided when its 5 s ran out
    # 20 Nov: 96 good minutes.
    for m in range(96):
        order(shop, at("2026-11-20 08:00:00") + m * dt.timedelta(minutes=1), 1)
    # 30 Nov, the last hour before NOW: 11:00–11:47 good, 11:48–11:57 bad, 11:58–11:59 good.
    for m in range(60):
        start = at("2026-11-30 11:00:00") + m * dt.timedelta(minutes=1)
        order(shop, start, 12 if 48 <= m <= 57 else 1, arrived_after=0.5)
    order(shop, at("2026-11-30 12:00:28"), None)  # still inside its 5 s at NOW: counted nowhere


def test_ingest_attainment_budget_and_burn_rate_match_the_hand_computed_figures(shop):
    seed_ingest(shop)
    ingest = BY_KEY["ingest"]
    days = daily_counts(ingest, [shop.pk], at("2026-11-01 00:00:00"), at("2026-11-30 12:00:00"))
    assert {d: (c.valid, c.good, c.events, c.missed) for (_cid, d), c in days.items()} == {
        dt.date(2026, 11, 10): (4, 2, 6, 3),
        dt.date(2026, 11, 20): (96, 96, 96, 0),
        dt.date(2026, 11, 30): (60, 50, 60, 10),
    }
    slo_rollup(now=NOW, days=30)
    slo_minutes_rollup(now=NOW, minutes=6 * 60)  # the burn-rate windows' minutes, as the evaluation writes them
    report = brand_report(shop.channel.brand, now=NOW)
    card = next(c for c in report.cards if c.slo.key == "ingest")
    # 160 minutes with orders, 148 good: 92.5 %; the budget is 1 % of 160 = 1.6 minutes, 12 spent.
    assert (card.budget.valid, card.budget.good) == (160, 148)
    assert card.budget.attainment == pytest.approx(0.925)
    assert card.budget.allowed_bad == pytest.approx(1.6)
    assert card.budget.budget_left == pytest.approx(1 - 12 / 1.6)  # -6.5: overspent six and a half times
    assert card.budget.burn_rate == pytest.approx((12 / 160) / 0.01)  # 7.5× over the 30 days
    assert card.budget.met is False
    # Burn rates up to 12:00: 1 h = 10 bad of 60 minutes → 16.7×; 5 min (11:55–11:59) 3 of 5 → 60×;
    # 30 min 10 of 30 → 33.3×; 6 h: only the last hour has orders → 16.7×.
    fast, slow = BURN_ALERTS
    assert card.rates[fast.long] == pytest.approx(1 / 6 / 0.01)
    assert card.rates[fast.short] == pytest.approx(3 / 5 / 0.01)
    assert card.rates[slow.short] == pytest.approx(10 / 30 / 0.01)
    assert card.rates[slow.long] == pytest.approx(1 / 6 / 0.01)
    assert card.warning is not None and card.warning.alert is fast  # fast burn (the slow one is implied)


def test_a_quiet_burn_stays_silent_and_a_slow_burn_is_named(shop):
    ingest = BY_KEY["ingest"]
    # Six hours of one order a minute; 30 bad minutes spread over the 6 h, one of them in the last 30 min.
    start = at("2026-11-30 06:00:00")
    bad = set(range(0, 330, 11)) | {345}
    for m in range(360):
        order(shop, start + m * dt.timedelta(minutes=1), 9 if m in bad else 1)
    slo_minutes_rollup(now=NOW, minutes=6 * 60)
    rates = burn_rates([shop.pk], NOW)["ingest"][shop.pk]
    _fast, slow = BURN_ALERTS
    assert rates[slow.long] == pytest.approx(len(bad) / 360 / 0.01)  # 31 of 360 → 8.6× ≥ 6
    assert rates[slow.short] == pytest.approx(1 / 30 / 0.01)  # 3.3× < 6: the burning has stopped
    assert burning(ingest, {shop.pk: rates}) == []


def test_fulfilment_write_counts_from_the_hand_off_to_the_confirmed_write(shop):
    fulfilment(shop, at("2026-11-29 09:00:00"), 3)  # good
    fulfilment(shop, at("2026-11-29 09:01:00"), 20)  # bad
    fulfilment(shop, at("2026-11-29 09:02:00"), None)  # bad: never confirmed
    fulfilment(shop, at("2026-11-30 12:00:25"), None)  # inside its 10 s at NOW: not counted
    slo_rollup(now=NOW, days=30)
    rows = {r.day: (r.valid, r.good, r.events, r.missed) for r in SloDay.objects.filter(slo="fulfilment")}
    assert rows == {dt.date(2026, 11, 29): (3, 1, 3, 2)}
    card = next(c for c in brand_report(shop.channel.brand, now=NOW).cards if c.slo.key == "fulfilment")
    assert card.budget.attainment == pytest.approx(1 / 3)
    found_misses, total = misses(
        BY_KEY["fulfilment"], [shop.pk], at("2026-11-29 00:00:00"), at("2026-11-30 00:00:00"), limit=10
    )
    assert total == 2 and [m.seconds for m in found_misses] == [float("inf"), 20.0]


def test_reconciler_records_count_when_resolved_or_when_their_24_hours_run_out(shop):
    found(shop, at("2026-11-25 10:00:00"), dt.timedelta(hours=2))  # good, counted on the 25th
    found(shop, at("2026-11-25 11:00:00"), None)  # bad, counted when its 24 h ran out: the 26th
    found(shop, at("2026-11-30 11:00:00"), None)  # unresolved for 1 h: not decided, not counted
    slo_rollup(now=NOW, days=30)
    rows = {r.day: (r.valid, r.good) for r in SloDay.objects.filter(slo="reconciler")}
    assert rows == {dt.date(2026, 11, 25): (1, 1), dt.date(2026, 11, 26): (1, 0)}
    budget = Budget(0.99, 2, 1)
    assert budget.budget_left == pytest.approx(1 - 1 / 0.02)  # -49: one bad record is 50 times the budget of two


def test_an_order_found_by_the_reconciler_counts_on_the_day_it_arrived(shop):
    # Placed on the platform on the 28th, its webhook lost, found and accepted on the 29th: a miss of the 29th.
    order(shop, at("2026-11-28 23:00:00"), 3600 * 11 + 1, arrived_after=3600 * 11)
    days = daily_counts(BY_KEY["ingest"], [shop.pk], at("2026-11-20 00:00:00"), at("2026-11-30 12:00:00"))
    assert {d: (c.valid, c.good) for (_cid, d), c in days.items()} == {dt.date(2026, 11, 29): (1, 0)}


def test_november_with_an_incident_in_the_monthly_statement(shop, other_brand):
    seed_ingest(shop)
    found(shop, at("2026-11-25 10:00:00"), dt.timedelta(hours=2))
    ExceptionItem.objects.create(
        kind=ExceptionKind.INCIDENT, brand=shop.channel.brand, summary="Shopify webhooks were delayed",
        dedupe_key="incident:1", state=ExceptionState.RESOLVED, decided_at=at("2026-11-10 10:42:00"),
        decision_note="We switched to polling; no order was lost.",
    )  # fmt: skip
    ExceptionItem.objects.filter(dedupe_key="incident:1").update(opened_at=at("2026-11-10 10:02:00"))
    ExceptionItem.objects.create(
        kind=ExceptionKind.INCIDENT, brand=other_brand, summary="Borealis only", dedupe_key="incident:2"
    )
    slo_rollup(now=NOW, days=30)
    report = month_report(shop.channel.brand, month=dt.date(2026, 11, 1))
    assert [i.words for i in report.incidents] == [
        "On 10 Nov 10:02 UTC: Shopify webhooks were delayed. Lasted 40 min. We switched to polling; no order was lost."
    ]
    rows = list(csv.DictReader(io.StringIO(as_csv(report)[0].decode())))
    month = {r["slo"]: r for r in rows if r["period"] == "2026-11"}
    assert month["Order ingest"]["attainment"] == "92.50" and month["Order ingest"]["met"] == "no"
    assert month["Order ingest"]["error_budget_left"] == "-650.00"
    assert (month["Reconciler delta"]["valid"], month["Reconciler delta"]["attainment"]) == ("1", "100.00")
    assert month["Fulfilment write"]["valid"] == "0" and month["Fulfilment write"]["attainment"] == ""
    day = next(r for r in rows if r["period"] == "2026-11-10" and r["slo"] == "Order ingest")
    assert (day["valid"], day["good"], day["attainment"], day["missed"]) == ("4", "2", "50.00", "3")
    pdf, content_type = as_pdf(report)
    assert content_type == "application/pdf" and pdf.startswith(b"%PDF-")
    # October has no events and no incident.
    october = month_report(shop.channel.brand, month=dt.date(2026, 10, 1))
    assert october.incidents == [] and all(c.budget.valid == 0 for c in october.cards)


def test_the_scheduled_evaluation_opens_one_incident_per_burning_slo(shop):
    seed_ingest(shop)
    slo_minutes_rollup(now=NOW, minutes=6 * 60)  # the minutes earlier runs wrote (each run rewrites the last 5)
    fired = slo_evaluate(now=NOW)
    assert [(b.connection_id, b.slo.key, b.alert.key) for b in fired] == [(shop.pk, "ingest", "fast")]
    slo_evaluate(now=NOW + dt.timedelta(seconds=20))  # the next minute's run: the same incident, not a second
    incidents = ExceptionItem.objects.filter(kind=ExceptionKind.INCIDENT)
    assert incidents.count() == 1
    incident = incidents.get()
    assert incident.brand == shop.channel.brand and incident.subject == shop
    assert incident.summary.startswith("Order ingest on Acme Shopify") and "fast burn" in incident.summary
    # Three quarters of an hour without a miss: every alert's short window reads no burn, so the incident closes.
    assert slo_evaluate(now=NOW + dt.timedelta(minutes=45)) == []
    incident.refresh_from_db()
    assert incident.state == ExceptionState.RESOLVED and "closed by the evaluation" in incident.decision_note


def test_an_alerts_incident_reads_as_its_brand_words(shop):
    from integrations.alerts.incidents import incident_close_recovered, incident_open
    from integrations.alerts.models import AlertRule
    from integrations.alerts.rules import rules_ensure_defaults

    rules_ensure_defaults()
    rule = AlertRule.objects.get(code="credentials-refused")
    incident, _ = incident_open(rule=rule, connection=shop, value=1, now=at("2026-11-12 09:00:00"))
    ExceptionItem.objects.filter(pk=incident.exception_id).update(opened_at=at("2026-11-12 09:00:00"))
    incident_close_recovered(incident=incident, value=0, now=at("2026-11-12 09:25:00"))
    ExceptionItem.objects.filter(pk=incident.exception_id).update(decided_at=at("2026-11-12 09:25:00"))
    report = month_report(shop.channel.brand, month=dt.date(2026, 11, 1))
    assert [i.words for i in report.incidents] == [
        f"On 12 Nov 09:00 UTC: {rule.brand_words.rstrip('.')}. Lasted 25 min."
    ]  # the brand's words, never the staff's "recovered: …" note
