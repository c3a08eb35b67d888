"""The alert rules as data and the incident's life: the seed's thresholds pinned, an administrator's tuning kept,
notifications retried through django-q2 until the on-call receiver takes them, snoozes and maintenance windows
holding them, permission before any write, and a data exception that never closes itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.html import escape

from integrations.alerts.incidents import (
    incident_acknowledge,
    incident_open,
    incident_review_save,
    incident_snooze,
    maintenance_declare,
)
from integrations.alerts.models import AlertRule, EntryKind, Incident, Notification, Recipient
from integrations.alerts.notify import notifications_queue
from integrations.alerts.rules import rules_ensure_defaults
from integrations.alerts.runbooks import POSTMORTEM_FIELDS, RUNBOOKS
from integrations.alerts.tasks import alerts_evaluate_due
from integrations.platforms import registry
from integrations.services import connection_pause_for_credentials
from tests.conftest import grant
from tests.factories import UserFactory
from tests.integrations.alerts.conftest import reconcile
from tests.integrations.conftest import run_queued_tasks
from tests.inventory.factories import DefinedSkuFactory
from warehouse.errors import InvalidInput, NotPermitted

pytestmark = pytest.mark.django_db

# Seed 000 §07 (code: signal, comparison, threshold, window minutes, for minutes, severity).
SEED = {
    "ingest-rate-drop": ("ingest_rate_drop", "above", 0.5, 5, 0, "page"),  # drop > 50 % vs the trailing hour
    "ingest-success-low": ("ingest_success", "below", 0.99, 5, 5, "page"),  # below 99 % for 5 minutes
    "hmac-failures": ("hmac_failure_rate", "above", 0.001, 60, 0, "page"),  # above 0.1 %
    "reconciler-delta": ("reconciler_delta", "above", 0, 60, 0, "investigate"),  # first non-zero
    "reconciler-delta-page": ("reconciler_delta", "above", 50, 60, 0, "page"),  # above 50 per hour
    "write-latency-p95": ("write_latency_over_budget", "above", 1.0, 15, 0, "page"),  # over the platform's budget
    "headroom-low": ("headroom", "below", 0.2, 0, 10, "page"),  # below 20 % for 10 minutes
    "dead-letters": ("dead_letters", "above", 0, 0, 0, "investigate"),  # non-zero is a story
    "dead-letters-growing": ("dead_letters_added", "above", 0, 15, 15, "page"),  # growing is an outage
    "catalog-drift": ("catalog_drift", "above", 0, 0, 0, "review"),  # daily review, not paged
    "reconciler-failing": ("reconciler_failures", "above", 2, 0, 0, "page"),  # more than twice in a row
    "reconciler-silent": ("reconciler_silence", "above", 30, 0, 0, "page"),  # no success for 30 minutes
    "credentials-refused": ("credentials_refused", "above", 0, 0, 0, "page"),  # outbound 401
    "outbound-backlog": ("outbound_backlog", "above", 500, 0, 0, "page"),  # backfill volume spike
}


def test_the_seeds_thresholds_are_the_default_rules_each_naming_a_runbook():
    assert rules_ensure_defaults() == len(SEED)
    found = {
        r.code: (r.signal, r.comparison, r.threshold, r.window_minutes, r.for_minutes, r.severity)
        for r in AlertRule.objects.all()
    }
    assert found == SEED
    assert {r.runbook for r in AlertRule.objects.all()} == set(RUNBOOKS)  # every failure shape is reachable
    assert AlertRule.objects.get(code="catalog-drift").evaluate_every_minutes == 1440
    assert not AlertRule.objects.get(code="catalog-drift").metric_backed  # a data exception never closes itself


def test_a_tuned_threshold_is_kept_and_its_history_says_so():
    rules_ensure_defaults()
    rule = AlertRule.objects.get(code="outbound-backlog")
    rule.threshold = 2000
    rule._change_reason = "big catalogs are normal for this operator"
    rule.save()
    assert rules_ensure_defaults() == 0
    assert AlertRule.objects.get(code="outbound-backlog").threshold == 2000
    assert [h.threshold for h in rule.history.order_by("history_id")] == [500, 2000]


def test_every_connector_has_a_write_latency_budget_the_default_unless_it_declares_one():
    for code in registry.codes():
        declared = getattr(registry.connector_for(code), "write_latency_budget_seconds", None)
        assert registry.write_latency_budget_seconds(code) == (
            declared or registry.DEFAULT_WRITE_LATENCY_BUDGET_SECONDS
        )


@pytest.fixture
def refused(clock, shop):
    connection_pause_for_credentials(connection=shop, note="outbound 401")
    return shop


def test_a_webhook_the_on_call_refuses_is_retried_by_django_q2_until_taken(clock, paging, evaluate, refused, sleeps):
    smtp_inbox, oncall = paging
    oncall.fail_first = 2
    evaluate()
    incident = Incident.objects.get()
    webhook = Notification.objects.get(incident=incident, channel="webhook")
    assert (webhook.state, webhook.attempts) == ("pending", 1) and "503" in webhook.last_error
    assert alerts_evaluate_due() == 0 and run_queued_tasks() == 0  # not due again for a minute
    clock.shift(minutes=1, seconds=1)
    alerts_evaluate_due()
    run_queued_tasks()
    clock.shift(minutes=2, seconds=1)
    alerts_evaluate_due()
    run_queued_tasks()
    webhook.refresh_from_db()
    assert (webhook.state, webhook.attempts) == ("sent", 3)
    assert [m["incident"] for m in oncall.received] == [incident.pk] and oncall.refused == 2
    assert len(smtp_inbox.messages) == 1
    assert incident.entries.filter(kind=EntryKind.NOTIFIED).count() == 2  # one e-mail, one webhook


def test_an_unsigned_webhook_is_never_sent(clock, paging, evaluate, refused, settings):
    _smtp_inbox, oncall = paging
    settings.ALERTS_WEBHOOK_SECRET = ""
    evaluate()
    webhook = Notification.objects.get(channel="webhook")
    assert webhook.state == "pending" and "ALERTS_WEBHOOK_SECRET" in webhook.last_error
    assert oncall.received == [] and oncall.refused == 0


def test_recipients_are_chosen_per_brand_and_per_rule(clock, paging, evaluate, refused, other_brand):
    smtp_inbox, _ = paging
    rules_ensure_defaults()
    Recipient.objects.create(brand=refused.brand, rule=AlertRule.objects.get(code="credentials-refused"),
                             email="acme-creds@hub.example")  # fmt: skip
    Recipient.objects.create(brand=other_brand, email="borealis@hub.example")
    Recipient.objects.create(brand=refused.brand, rule=AlertRule.objects.get(code="hmac-failures"),
                             email="acme-hmac@hub.example")  # fmt: skip
    evaluate()
    assert sorted(r[0] for r in smtp_inbox.recipients) == ["acme-creds@hub.example", "oncall@hub.example"]


def test_a_snoozed_incident_holds_its_notifications_until_the_snooze_ends(clock, paging, refused, manager):
    smtp_inbox, oncall = paging
    rules_ensure_defaults()
    incident, _ = incident_open(rule=AlertRule.objects.get(code="credentials-refused"), connection=refused,
                                value=1.0, now=timezone.now())  # fmt: skip
    incident_snooze(incident=incident, until=timezone.now() + dt.timedelta(minutes=30), reason="brand rotating now",
                    actor=manager)  # fmt: skip
    notifications_queue(incident=incident)
    alerts_evaluate_due()
    run_queued_tasks()
    assert smtp_inbox.messages == [] and oncall.received == []
    clock.shift(minutes=31)
    alerts_evaluate_due()
    run_queued_tasks()
    assert len(smtp_inbox.messages) == 1 and len(oncall.received) == 1
    assert incident.entries.filter(kind=EntryKind.SNOOZED, text__contains="brand rotating now").exists()


def test_a_maintenance_window_silences_the_connection(clock, paging, evaluate, refused, manager):
    now = timezone.now()
    maintenance_declare(connection=refused, starts_at=now - dt.timedelta(minutes=1),
                        ends_at=now + dt.timedelta(hours=1), reason="re-keying the app", actor=manager)  # fmt: skip
    evaluate()
    assert not Incident.objects.exists()
    clock.shift(hours=1, minutes=1)
    evaluate()
    assert Incident.objects.get().rule.code == "credentials-refused"


@pytest.fixture
def manager(db):
    user = UserFactory()
    grant(user, "alerts.operate_incident", "alerts.view_incident")
    return user


def test_acting_on_an_incident_needs_the_permission_and_writes_nothing_without_it(clock, refused, manager):
    rules_ensure_defaults()
    incident, _ = incident_open(rule=AlertRule.objects.get(code="credentials-refused"), connection=refused,
                                value=1.0, now=timezone.now())  # fmt: skip
    before = incident.entries.count()
    viewer = UserFactory()
    grant(viewer, "alerts.view_incident")
    with pytest.raises(NotPermitted):
        incident_acknowledge(incident=incident, actor=viewer)
    with pytest.raises(NotPermitted):
        incident_review_save(incident=incident, answers={}, actor=viewer)
    assert incident.entries.count() == before
    incident_acknowledge(incident=incident, actor=manager)
    incident_acknowledge(incident=incident, actor=manager)  # once
    assert incident.entries.filter(kind=EntryKind.ACKNOWLEDGED).count() == 1
    with pytest.raises(InvalidInput) as refusal:
        incident_review_save(incident=incident, answers={"impact": "none"}, actor=manager)
    assert len(refusal.value.reasons) == len(POSTMORTEM_FIELDS) - 1
    with pytest.raises(InvalidInput):
        incident_snooze(incident=incident, until=timezone.now() + dt.timedelta(hours=1), reason=" ", actor=manager)


def test_catalog_drift_is_reviewed_daily_and_never_closes_itself(clock, paging, evaluate, shop):
    _smtp_inbox, _oncall = paging
    evaluate()
    assert not Incident.objects.exists()
    sku = DefinedSkuFactory(brand=shop.brand, code="NEW-TEE")  # no weight, dimensions or HS code
    clock.shift(hours=1)
    reconcile(shop)
    evaluate()
    assert not Incident.objects.exists()  # reviewed once a day, not paged at once
    clock.shift(hours=23)
    reconcile(shop)
    evaluate()
    incident = Incident.objects.get()
    assert incident.rule.code == "catalog-drift" and incident.severity == "review"
    sku.delete()
    clock.shift(days=1)
    reconcile(shop)
    evaluate()
    incident.refresh_from_db()
    assert incident.closed_at is None  # a data exception waits for a person


def test_the_evaluation_runs_every_minute_through_sync_schedules():
    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("sync_schedules")
    schedule = Schedule.objects.get(name="integrations.alerts_evaluate")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "integrations.alerts.tasks.alerts_evaluate_due", Schedule.MINUTES, 1,
    )  # fmt: skip


def test_the_runbook_pages_hold_the_detection_triage_remediation_and_review_template(client, manager):
    client.force_login(manager)
    assert client.get("/runbooks/").status_code == 200
    for book in RUNBOOKS.values():
        page = client.get(book.url).content.decode()
        assert escape(book.title) in page and escape(book.detection) in page
        assert "Triage checklist" in page and "Remediation" in page and "Post-incident review template" in page
    assert len(RUNBOOKS) == 7
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get("/runbooks/platform-outage/").status_code == 403
