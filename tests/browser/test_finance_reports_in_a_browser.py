"""Issue 20, in the browser: finance opens each report from the menu, filters it, downloads CSV and XLSX, and finds
no control that changes anything; a brand user downloads their own slice and gets 404 on another brand's."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from reports.finance.registry import REPORTS
from reports.models import RateCard
from tests.reports.seed import seed_billing, seed_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRITE_CONTROLS = (
    "button:text-matches('save|delete|add|change|edit', 'i'), input[type=submit], "
    "a:text-matches('^(add|change|delete)', 'i')"
)


def _filter(page, *, brand_pk: int | None, start: str, end: str) -> None:
    if brand_pk is not None:
        page.select_option("select[name=brand]", str(brand_pk))
    page.fill("input[name=from]", start)
    page.fill("input[name=to]", end)
    page.click("button:has-text('Show')")
    page.wait_for_load_state()


def _download(page, label: str, where: str = ".downloads") -> bytes:
    with page.expect_download() as info:
        page.click(f"{where} a:has-text('{label}')")
    with open(info.value.path(), "rb") as fh:
        return fh.read()


def test_finance_reads_filters_and_downloads_every_report(sign_in, live_server, make_user):
    acme, _, facility = seed_month()
    seed_billing(acme, facility)
    seed_month(brand_name="Other", slug="other")
    finance = make_user("finance", username="fin")
    page = sign_in(finance)

    page.click("nav a:has-text('Reports')")
    titles = page.locator(".report-tile strong").all_inner_texts()
    assert titles == [r.title for r in REPORTS.values()]
    for report in REPORTS.values():
        page.goto(f"{live_server.url}/reports/")
        page.click(f".report-tile:has-text('{report.title}')")
        _filter(page, brand_pk=acme.pk, start="2026-10-01", end="2026-11-30")

        assert page.locator("h1").inner_text() == report.title
        assert page.locator("svg.chart, .chart-empty").count() == 1
        assert page.locator(WRITE_CONTROLS).count() == 0
        headers = [h.strip() for h in page.locator("table.report th").all_text_contents()]
        assert headers == [c.label for c in report.columns]

        rows = list(csv.reader(io.StringIO(_download(page, "CSV").decode("utf-8-sig"))))
        assert rows[0] == headers
        assert all("Other" not in cell for row in rows for cell in row)  # the brand filter holds in the file
        sheet = openpyxl.load_workbook(io.BytesIO(_download(page, "Excel"))).active
        assert [c.value for c in sheet[1]] == headers
        assert sheet.max_row == len(rows)

    page.goto(f"{live_server.url}/reports/sla/?brand={acme.pk}&from=2026-10-01&to=2026-11-30")
    assert page.locator("table.report tbody tr").count() == 2
    assert "6.00" in page.locator("table.report tbody tr").nth(1).inner_text()  # November's credit owed

    # The console shows finance the rate card, with nothing to save.
    card = RateCard.objects.filter(brand=acme).first()
    page.goto(f"{live_server.url}/admin/reports/ratecard/{card.pk}/change/")
    assert page.locator("input[type=submit]").count() == 0


def test_a_brand_user_downloads_their_slice_and_not_another_brands(sign_in, live_server, make_user):
    acme, _, _ = seed_month()
    other, _, _ = seed_month(brand_name="Other", slug="other")
    page = sign_in(make_user("brand", brand=acme))

    page.click("nav a:has-text('Reports')")
    page.click(".report-tile:has-text('Volume')")
    _filter(page, brand_pk=None, start="2026-10-01", end="2026-11-30")
    rows = list(csv.reader(io.StringIO(_download(page, "CSV").decode("utf-8-sig"))))

    assert len(rows) > 1 and {row[1] for row in rows[1:]} == {"Acme"}
    response = page.goto(f"{live_server.url}/reports/volume/?brand={other.pk}")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/reports/volume/export.csv?brand={other.pk}")
    assert response.status == 404


def test_finance_starts_a_background_export_and_downloads_it_when_done(sign_in, live_server, make_user, settings):
    from reports import tasks
    from reports.models import ExportJob, ExportState

    seed_month()
    settings.REPORT_EXPORT_INLINE_ROWS = 10  # the 30 measured orders are "a big export" here
    page = sign_in(make_user("finance", username="fin"))
    page.set_viewport_size({"width": 375, "height": 800})

    page.goto(f"{live_server.url}/reports/sla-orders/?from=2026-10-01&to=2026-11-30")
    page.click(".downloads a:has-text('CSV')")
    assert "30" in page.locator(".card strong").inner_text()  # the offer names the rows, no file yet
    page.click("button:has-text('Start the export')")
    page.wait_for_load_state()

    job = ExportJob.objects.get()
    assert (job.state, job.rows_total, job.requested_by.username) == (ExportState.QUEUED, 30, "fin")
    assert page.locator("[data-state]").get_attribute("data-state") == "queued"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tasks.export_run(job.pk)  # the worker
    page.reload()
    assert page.locator("[data-state]").get_attribute("data-state") == "done"
    rows = list(csv.reader(io.StringIO(_download(page, "Download CSV", where="[data-state]").decode("utf-8-sig"))))
    assert len(rows) == 31 and rows[0] == [c.label for c in REPORTS["sla-orders"].columns]
