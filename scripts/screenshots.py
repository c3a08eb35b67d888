"""`make screenshots`: PNGs of the main pages in docs/screenshots/, taken by Debian's chromium through Playwright.

Builds its own PostgreSQL database (`<name>_screenshots`, dropped and re-created) from the migrations and
`seed_demo`, serves it on a loopback port in this process, signs in as each demo role and saves one PNG per page."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _own_database() -> None:
    """Point DATABASE_URL at a scratch database next to the configured one, re-created empty."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    base, _, name = url.rpartition("/")
    scratch = f"{name.split('?')[0]}_screenshots"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = f"{base}/{scratch}"


def _first_link(selector: str):
    """A page whose URL is the first matching link on the current page (e.g. the first order of the list)."""

    def find(page) -> str | None:
        link = page.locator(selector).first
        return link.evaluate("a => a.href") if link.count() else None

    return find


def pages_for(base: str) -> dict[str, list[tuple[str, object]]]:
    """What each demo role looks at, in the order a visitor would click."""
    return {
        "manager": [
            ("exception-queue.png", "/exceptions/"),
            ("console-index.png", "/admin/"),
            ("exception-on-hold-orders.png", "/exceptions/?kind=order_on_hold"),
            ("orders.png", "/orders/"),
            ("order-detail-manager.png", _first_link("table.list a[href^='/orders/']")),
            ("stock.png", "/stock/"),
            ("console-returns.png", "/admin/returns/return/"),
            ("console-return.png", _first_link("#result_list a[href*='/change/']")),
            ("api-docs.png", "/api/docs/"),
        ],
        "finance": [("console-exception-finance.png", "/admin/warehouse/exceptionitem/")],
        "acme": [
            ("brand-orders.png", "/orders/"),
            ("brand-order-detail.png", _first_link("table.list a[href^='/orders/']")),
            ("brand-stock.png", "/stock/"),
        ],
        "admin": [("console-connections.png", "/admin/integrations/connection/")],
    }


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    _own_database()
    import django

    django.setup()
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)

    from demo.management.commands.seed_demo import USERS

    passwords = {username: password for username, _role, _brand, password in USERS}
    server = make_server("127.0.0.1", 0, StaticFilesHandler(get_wsgi_application()), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    OUT.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for username, shots in pages_for(base).items():
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", passwords[username])
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for filename, path in shots:
                url = path(page) if callable(path) else f"{base}{path}"
                if url is None:
                    continue
                page.goto(url)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / filename), full_page=True)
                print(f"saved docs/screenshots/{filename}")
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
