"""Issue 10 §4: every page works on a 375 px phone screen. For each role, on the demo's data: every page of its menu,
an order page, and (for the roles that work in it) the console's index, every list and the first object of each list.
On each page no element's box may extend past the viewport's right edge, unless it sits inside a scroll container
whose own box fits (a wide table scrolling in its own box). The check reads the elements' boxes, so `overflow: hidden`
on the body, which hides the overflow from the page's scroll width, does not pass it (the canary below proves it).
The folded menu opens with its "Menu" button and shows "Sign out" on screen."""

from __future__ import annotations

import time

import pytest

from tests.browser.demo_pages import MENU_HOME, DemoUser, menu_links, seed_demo, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 375
CONSOLE_IN_FULL = {"warehouse_manager", "administrator"}  # between them they see every console model

# Every visible element whose box reaches past the viewport's right edge and is not inside a scroll container that
# itself fits. Described as a short CSS path, for the failure message.
OFFENDERS_JS = """
() => {
  const vw = window.innerWidth;
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const fits = (el) => { const r = el.getBoundingClientRect(); return r.left >= -1 && r.right <= vw + 1; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
    return parts.join(' > ');
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= vw + 1) continue;
    let contained = false;
    for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      if (scrolls(p) && fits(p)) { contained = true; break; }
    }
    if (!contained) out.push(`${path(el)} reaches ${Math.round(box.right)} px`);
  }
  return out;
}
"""


def _offenders(page) -> list[str]:
    return page.evaluate(OFFENDERS_JS)


def _console_pages(page, base: str) -> list[str]:
    """The console's index, every list it links, and the first object of each list."""
    page.goto(f"{base}/admin/")
    lists = page.eval_on_selector_all(
        "#content-main .module th[scope=row] a", "els => els.map(e => e.getAttribute('href'))"
    )
    pages = ["/admin/", *lists]
    for href in lists:
        page.goto(f"{base}{href}")
        first = page.eval_on_selector_all(
            "#result_list tbody tr a[href*='/change/']", "els => els.slice(0, 1).map(e => e.getAttribute('href'))"
        )
        pages.extend(first)
    return pages


def _pages_of(page, base: str, user: DemoUser) -> list[str]:
    pages = menu_links(page, base)
    if "/orders/" in pages:
        page.goto(f"{base}/orders/")
        pages += page.eval_on_selector_all(
            "table.list tbody a", "els => els.slice(0, 1).map(e => e.getAttribute('href'))"
        )
    if user.role in CONSOLE_IN_FULL:
        pages += _console_pages(page, base)
    elif any(href.startswith("/admin/") for href in pages):
        pages.append("/admin/orders/order/")
    return list(dict.fromkeys(pages))


def test_every_page_of_every_role_fits_a_375px_screen(chromium, live_server):
    started = time.monotonic()
    people = seed_demo()
    base = live_server.url
    problems: dict[str, list[str]] = {}
    visited = 0
    for user in people:
        context = chromium.new_context(viewport={"width": WIDTH, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, base, user)
        for path in _pages_of(page, base, user):
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle" if path.startswith("/api/") else "load")
            visited += 1
            if found := _offenders(page):
                problems[f"{user.role} {path}"] = found[:5]
        # The folded menu: its button opens it, "Sign out" is then on screen and the opened menu fits too.
        page.goto(f"{base}{MENU_HOME}")
        sign_out = page.get_by_role("button", name="Sign out")
        assert not sign_out.is_visible(), "at 375 px the menu starts folded"
        page.get_by_text("Menu", exact=True).click()
        assert sign_out.is_visible()
        box = sign_out.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
        if found := _offenders(page):
            problems[f"{user.role} opened menu"] = found[:5]
        context.close()
    assert visited >= 40, visited  # the walk really covered the pages
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())

    # Canary: the same check fails on a page where one element is too wide, even with the body's overflow hidden.
    context = chromium.new_context(viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    sign_in(page, base, people[0])
    page.goto(f"{base}{MENU_HOME}")
    page.evaluate(
        "() => { document.body.style.overflow = 'hidden'; const wide = document.createElement('div');"
        " wide.id = 'too-wide'; wide.style.width = '600px'; wide.textContent = 'x';"
        " document.querySelector('main').append(wide); }"
    )
    assert any("div#too-wide" in found for found in _offenders(page))
    context.close()
    print(f"\n375 px check: {visited} pages in {time.monotonic() - started:.1f} s")
