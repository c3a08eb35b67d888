"""Issue 10 §4: pages never show the machinery. Signed in as each role through the login form, on the demo's data and
with DEBUG off as in the demo, a crawler opens every page of the menu and follows the same-origin links it finds
(GET only: no form is submitted; "Sign out" is a form, and logout URLs are skipped anyway) two clicks deep. No page
may answer 500 or show Django's debug pages (a traceback, or the debug 404 listing the URLconf); every menu item
itself opens (200), since a menu must not offer a page that refuses its reader.

The walk is bounded: at most PER_ROLE pages per role, one query string per path (the console's sort and filter links
vary only the query) and at most PER_PATTERN objects per kind of URL (`/admin/orders/order/<id>/change/`)."""

from __future__ import annotations

import re
import time
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.demo_pages import menu_links, seed_demo, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEPTH = 2
PER_ROLE = 120
PER_PATTERN = 2
SKIP = ("/accounts/logout", "/admin/logout", "/static/", "/api/schema")  # sign-out; files; a download, not a page
DEBUG_SIGNS = ("Traceback", "DEBUG = True", "Using the URLconf defined in", "You’re seeing this error because")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def machinery_shown(status: int, body: str) -> str | None:
    """Why a response shows the machinery, or None."""
    if status >= 500:
        return f"answered {status}"
    for sign in DEBUG_SIGNS:
        if sign in body:
            return f"shows Django's debug page ({sign!r})"
    return None


def _links(base: str, url: str, body: str) -> list[str]:
    parser = _Links()
    parser.feed(body)
    found = []
    for href in parser.hrefs:
        target = urlsplit(urljoin(url, href))
        if f"{target.scheme}://{target.netloc}" != base or target.path.startswith(SKIP):
            continue
        found.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def _crawl(page, base: str, start: list[str]) -> tuple[int, list[str]]:
    """Breadth first from the menu; returns the number of pages opened and every problem found."""
    problems: list[str] = []
    queue = deque((path, 0) for path in start)
    seen_paths: set[str] = set()
    per_pattern: dict[str, int] = {}
    opened = 0
    while queue and opened < PER_ROLE:
        path, depth = queue.popleft()
        bare = path.split("?")[0]
        pattern = re.sub(r"/\d+/", "/<id>/", bare)
        if bare in seen_paths or (pattern != bare and per_pattern.get(pattern, 0) >= PER_PATTERN):
            continue
        seen_paths.add(bare)
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        response = page.request.get(f"{base}{path}", max_redirects=5)
        opened += 1
        body = response.text() if "html" in response.headers.get("content-type", "") else ""
        if why := machinery_shown(response.status, body):
            problems.append(f"{path} {why}")
        if depth == 0 and response.status != 200:
            problems.append(f"menu item {path} answered {response.status}")
        if depth < DEPTH and body:
            queue.extend((link, depth + 1) for link in _links(base, response.url, body))
    return opened, problems


def test_no_page_reachable_from_any_menu_shows_the_machinery(page, live_server, settings):
    assert settings.DEBUG is False  # as in the demo (scripts/demo.sh)
    started = time.monotonic()
    base = live_server.url
    people = seed_demo()
    problems: list[str] = []
    opened = 0
    for user in people:
        page.context.clear_cookies()
        sign_in(page, base, user)
        count, found = _crawl(page, base, menu_links(page, base))
        assert count >= 5, (user.role, count)
        opened += count
        problems += [f"{user.role}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)

    # Canary: the same check does catch Django's debug 404 (the URL list) once DEBUG is on.
    settings.DEBUG = True
    response = page.request.get(f"{base}/no-such-page/")
    assert machinery_shown(response.status, response.text()) is not None
    print(f"\ncrawler: {opened} pages in {time.monotonic() - started:.1f} s")
