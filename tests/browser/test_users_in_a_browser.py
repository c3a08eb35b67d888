"""Issue 13 §1 in a real browser: an administrator creates a brand user tied to one brand, who chooses a password
through the set-password link (from the page, and as e-mailed through a real SMTP server on loopback) and sees only
that brand; an administrator tries to grant superuser and to change another administrator's password, and cannot:
the controls are absent, and hand-written POSTs with the browser's own session are refused and change nothing. The
user pages fit a 375 px screen."""

import re

import pytest
from django.contrib.auth.models import User

from orders.services import order_ingest
from tests.browser.conftest import PASSWORD
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku
from warehouse.roles import user_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Harbour-Lantern-72"


@pytest.fixture
def orders_of_both_brands(brand, other_brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    stocked_sku(brand=other_brand, facility=facility, code="SERUM", units=10)
    ours = CanonicalOrderFactory(platform_order_id="#ACME-1", lines=(line("TEE-M"),))
    theirs = CanonicalOrderFactory(platform_order_id="#BOREALIS-1", lines=(line("SERUM"),))
    return order_ingest(canonical=ours, brand=brand).order, order_ingest(canonical=theirs, brand=other_brand).order


def test_an_administrator_creates_a_brand_user_who_signs_in_through_the_link_and_sees_only_that_brand(
    make_user, brand, other_brand, orders_of_both_brands, sign_in, live_server, chromium, smtp_inbox
):
    base = live_server.url
    page = sign_in(make_user("administrator", username="ada"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.goto(f"{base}/admin/auth/user/")
    page.get_by_role("link", name=re.compile("Add user")).click()
    assert page.locator("input[name=is_superuser]").count() == 0
    page.fill("#id_username", "acme-ops")
    page.fill("#id_first_name", "Ana")
    page.fill("#id_email", "ana@acme.example")
    page.check("input[name=roles][value=brand]")
    page.check(f"input[name=brands][value='{brand.pk}']")
    page.click("input[name=_save]")

    link = page.input_value("#set-password-link")
    assert "/accounts/reset/" in link
    page.click("#copy-link")
    page.wait_for_selector("#copy-link:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.get_by_text("Sent by e-mail to ana@acme.example").is_visible()
    assert smtp_inbox.recipients == [["ana@acme.example"]]
    mailed = re.search(r"https?://\S+/accounts/reset/\S+/", smtp_inbox.bodies()[0]).group(0)
    assert mailed == link

    # The new brand user, in a browser of their own, from the e-mail.
    theirs = chromium.new_context(viewport={"width": 1280, "height": 900})
    them = theirs.new_page()
    them.set_default_timeout(10_000)
    them.goto(mailed)
    assert them.get_by_text("acme-ops").first.is_visible()
    them.fill("#id_new_password1", NEW_PASSWORD)
    them.fill("#id_new_password2", NEW_PASSWORD)
    them.click("button[type=submit]")
    them.get_by_role("link", name="Sign in").click()
    them.fill("#id_username", "acme-ops")
    them.fill("#id_password", NEW_PASSWORD)
    them.click("button[type=submit]")
    them.wait_for_load_state()
    them.goto(f"{base}/orders/")
    listing = them.content()
    assert "#ACME-1" in listing and "#BOREALIS-1" not in listing
    _ours, other = orders_of_both_brands
    assert them.goto(f"{base}/orders/{other.pk}/").status == 404
    them.goto(f"{base}/admin/")
    assert "/admin/login/" in them.url, "brand users never reach the console"
    # The link worked once.
    them.goto(mailed)
    assert them.get_by_text("This link does not work any more").is_visible()
    theirs.close()


def _csrf(page) -> str:
    return page.locator("input[name=csrfmiddlewaretoken]").first.input_value()


def _state(*users) -> list[tuple]:
    return [
        (u.username, u.email, u.password, u.is_superuser, u.is_staff, tuple(user_roles(u)))
        for u in User.objects.filter(pk__in=[x.pk for x in users]).order_by("pk")
    ]


def test_an_administrator_cannot_grant_superuser_nor_change_another_administrators_password(
    make_user, sign_in, live_server
):
    base = live_server.url
    ada = make_user("administrator", username="ada")
    bea = make_user("administrator", username="bea")
    otto = make_user("operations", username="otto")
    page = sign_in(ada)

    # The controls are absent: no superuser box anywhere, nothing to change on another administrator's page.
    for user in (None, ada, otto):
        page.goto(f"{base}/admin/auth/user/{user.pk}/change/" if user else f"{base}/admin/auth/user/add/")
        assert page.locator("#user_form").count() == 1
        assert page.locator("input[name=is_superuser], [name=groups], [name=permissions]").count() == 0
        assert page.locator("input[type=password]").count() == 0
        assert page.locator("input[name=roles][value=administrator]").count() == 0
    page.goto(f"{base}/admin/auth/user/{bea.pk}/change/")
    assert page.locator("#user_form").count() == 0
    assert page.get_by_role("button", name="Issue a set-password link").count() == 0
    assert page.get_by_text("Only a superuser changes another administrator's account.").is_visible()

    # Hand-written requests, with the browser's own session and CSRF token: refused, nothing changes.
    page.goto(f"{base}/admin/auth/user/{ada.pk}/change/")
    token = _csrf(page)
    before = _state(ada, bea, otto)
    probes = [
        (f"/admin/auth/user/{ada.pk}/change/", {"username": "ada", "is_superuser": "on"}),
        (f"/admin/auth/user/{otto.pk}/change/", {"username": "otto", "roles": "operations", "is_superuser": "on"}),
        (f"/admin/auth/user/{ada.pk}/change/", {"username": "ada", "roles": "warehouse_manager"}),
        ("/admin/auth/user/add/", {"username": "boss", "roles": "operations", "is_superuser": "on"}),
        ("/admin/auth/user/add/", {"username": "boss2", "roles": "administrator"}),
        (f"/admin/auth/user/{bea.pk}/change/", {"username": "bea", "email": "ada@evil.example"}),
        (f"/admin/auth/user/{bea.pk}/password-link/", {}),
        (f"/admin/auth/user/{bea.pk}/password/", {"password1": "Owned-2026!", "password2": "Owned-2026!"}),
    ]
    answers = {}
    for path, form in probes:
        response = page.request.post(f"{base}{path}", form={"csrfmiddlewaretoken": token, **form})
        answers[path + str(sorted(form))] = response.status
        assert "/accounts/reset/" not in response.text()
    assert _state(ada, bea, otto) == before, answers
    assert not User.objects.filter(username__startswith="boss").exists()
    assert not User.objects.filter(is_superuser=True).exists()
    refused = [status for status in answers.values() if status == 403]
    assert len(refused) >= 6, answers  # the add with a role not offered answers its form with the error instead


def test_the_user_pages_fit_a_375px_screen(chromium, live_server, make_user, brand, other_brand):
    ada = make_user("administrator", username="ada")
    bea = make_user("administrator", username="bea")
    otto = make_user("operations", username="otto")
    context = chromium.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    problems = {}
    for path in ("/admin/auth/user/", "/admin/auth/user/add/", f"/admin/auth/user/{otto.pk}/change/",
                 f"/admin/auth/user/{bea.pk}/change/", f"/admin/auth/user/{ada.pk}/change/"):  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        if found := page.evaluate(OFFENDERS_JS):
            problems[path] = found[:5]
    page.goto(f"{live_server.url}/admin/auth/user/{otto.pk}/change/")
    page.get_by_role("button", name="Issue a set-password link").click()
    page.wait_for_selector("#set-password-link")
    if found := page.evaluate(OFFENDERS_JS):
        problems["link page"] = found[:5]
    link = page.input_value("#set-password-link")
    page.context.clear_cookies()
    page.goto(link)
    if found := page.evaluate(OFFENDERS_JS):
        problems["set-password page"] = found[:5]
    context.close()
    assert not problems, problems
