"""Issue 18 in a real browser: a warehouse manager opens the connector health board from the menu, follows an open
incident, acknowledges it, and fills and keeps its post-incident review; the board and the incident page fit a
375 px screen."""

import pytest
from django.utils import timezone

from integrations.alerts.incidents import incident_open
from integrations.alerts.models import AlertRule, EntryKind, Incident
from integrations.alerts.rules import rules_ensure_defaults
from integrations.alerts.runbooks import POSTMORTEM_FIELDS
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.integrations.factories import ConnectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWERS = {
    "impact": "Fulfilments to the Shopify store waited 40 minutes; no customer complained.",
    "timeline": "Started 09:10, paged 09:11, credentials rotated 09:50.",
    "root_cause": "The brand reinstalled the app, which revoked our token.",
    "detection": "The alert fired on the first refused write; in time.",
    "actions": "Ask brands to tell us before reinstalling (account manager, next review).",
}


@pytest.fixture
def incident(brand):
    rules_ensure_defaults()
    shop = ConnectionFactory(brand=brand, name="Acme store")
    opened, _ = incident_open(rule=AlertRule.objects.get(code="credentials-refused"), connection=shop, value=1.0,
                              now=timezone.now())  # fmt: skip
    return opened


def test_a_manager_acknowledges_an_incident_from_the_health_board_and_keeps_its_review(
    make_user, incident, sign_in, live_server
):
    manager = make_user("warehouse_manager", username="mia")
    page = sign_in(manager)
    page.get_by_role("link", name="Health board").click()
    row = page.locator(f"tr[data-connection='{incident.connection_id}']")
    assert "Acme store" in row.inner_text()
    row.get_by_role("link", name="Platform refused our credentials").click()
    assert page.get_by_role("heading", name=f"Incident {incident.pk}: Platform refused our credentials").is_visible()
    assert page.locator("#incident-ack").inner_text() == "not yet"
    page.get_by_role("link", name="Credential expired").wait_for()

    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=Incident acknowledged.")
    assert "by mia" in page.locator("#incident-ack").inner_text()
    assert page.get_by_role("button", name="Acknowledge").count() == 0

    # A review without every answer is refused, and what was typed stays in the form.
    page.fill("#review-impact", ANSWERS["impact"])
    page.get_by_role("button", name="Save the review").click()
    assert page.locator(".messages li.error").count() == len(POSTMORTEM_FIELDS) - 1
    assert page.input_value("#review-impact") == ANSWERS["impact"]
    for name, answer in ANSWERS.items():
        page.fill(f"#review-{name}", answer)
    page.get_by_role("button", name="Save the review").click()
    page.wait_for_selector("text=Post-incident review saved.")

    kept = Incident.objects.get(pk=incident.pk)
    assert kept.acknowledged_by == manager and kept.postmortem == ANSWERS and kept.postmortem_by == manager
    assert kept.entries.filter(kind=EntryKind.ACKNOWLEDGED).count() == 1
    assert kept.entries.filter(kind=EntryKind.REVIEW).count() == 1
    page.reload()
    assert page.input_value("#review-root_cause") == ANSWERS["root_cause"]
    assert "Kept by mia" in page.content()

    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/health/", f"/incidents/{incident.pk}/", "/runbooks/credential-expired/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(OFFENDERS_JS) == [], path
