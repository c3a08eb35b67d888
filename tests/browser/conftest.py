import os

import pytest

from tests.permissions.fixtures import fast_password_hashing, make_user, roles  # noqa: F401

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def sign_in(page, live_server):
    def sign_in_as(user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return sign_in_as


@pytest.fixture(autouse=True)
def _truncate_triggers_off_for_the_flush(transactional_db):
    """Browser tests need committed data (the live server is another thread), so the test runner flushes the
    tables with TRUNCATE afterwards. A trigger that refuses TRUNCATE (integrations' audit log) would fail that
    flush: switch off only triggers that fire on TRUNCATE (UPDATE/DELETE guards stay on) before it runs."""
    yield
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND (t.tgtype & 32) <> 0 AND t.tgenabled <> 'D'"
        )
        for table, trigger in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')
