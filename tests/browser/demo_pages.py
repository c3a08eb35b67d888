"""What the page-wide browser tests share: the demo's data and people (`seed_demo`, one user per role), signing in
through the login form, and the pages each role reaches from its menu."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from django.core.management import call_command

MENU_HOME = (
    "/allocation-policy/"  # a page with the site menu that every role may open (administrators land in the console)
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str


def seed_demo() -> list[DemoUser]:
    """The demo's data, as `make demo` seeds it: every order, return and exception state, both brands. One brand user
    stands for the brand role (the other sees the same pages)."""
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    users: list[dict[str, Any]] = json.loads(out.getvalue())["users"]
    seen: set[str] = set()
    people = []
    for user in users:
        if user["role"] not in seen:
            seen.add(user["role"])
            people.append(DemoUser(user["username"], user["password"], user["role"]))
    return people


def sign_in(page: Any, base: str, user: DemoUser) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{user.username} could not sign in"


def menu_links(page: Any, base: str) -> list[str]:
    """The paths of the site menu as the signed-in user sees it (the menu's links are in the page even while the
    narrow-screen menu is folded)."""
    page.goto(f"{base}{MENU_HOME}")
    hrefs: list[str] = page.eval_on_selector_all("header.top nav a", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs, f"no menu on {MENU_HOME}"
    return hrefs
