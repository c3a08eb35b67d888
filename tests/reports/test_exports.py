"""Exports: formula injection escaped in CSV and XLSX, CSV streamed, a big export run as a job whose progress the
page shows, and access (operations refused, a brand user held to their own slice)."""

from __future__ import annotations

import csv
import io
import threading

import openpyxl
import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from reports import tasks
from reports.finance.registry import REPORTS
from reports.models import ExportJob, ExportState
from returns.models import Return
from tests.reports.seed import seed_month

DANGEROUS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.fixture
def finance(make_user):
    return make_user("finance", username="fin")


def _returns_with_reasons(brand):
    for n, reason in enumerate(DANGEROUS):
        Return.objects.create(brand=brand, rma_number=f"RMA-{n}", reason=reason)


def _export_url(slug: str, fmt: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"from": "2026-10-01", "to": "2026-12-31", **params}.items())
    return f"{reverse('finance-report-export', args=[slug, fmt])}?{query}"


@pytest.mark.django_db
def test_csv_cells_that_start_a_formula_are_escaped_and_the_file_streams(client, finance, time_machine):
    time_machine.move_to("2026-12-05 10:00:00+01:00")
    brand, _, _ = seed_month()
    _returns_with_reasons(brand)
    client.force_login(finance)

    response = client.get(_export_url("returns", "csv"))

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    reasons = [row[1] for row in csv.reader(io.StringIO(text))][1:]
    assert all(r.startswith("'") for r in reasons) and len(reasons) == len(DANGEROUS)


@pytest.mark.django_db
def test_xlsx_cells_are_text_never_formulas(client, finance, time_machine):
    time_machine.move_to("2026-12-05 10:00:00+01:00")
    brand, _, _ = seed_month()
    _returns_with_reasons(brand)
    client.force_login(finance)

    response = client.get(_export_url("returns", "xlsx"))

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert len(cells) == len(DANGEROUS)
    assert all(isinstance(c, str) and c.startswith("'") for c in cells)
    counts = [row[3] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(c, (int, float)) for c in counts)  # numbers stay numbers


@pytest.mark.django_db(transaction=True)
def test_a_big_export_runs_as_a_job_and_the_page_shows_its_progress(
    client, finance, settings, monkeypatch, time_machine
):
    time_machine.move_to("2026-12-05 10:00:00+01:00")
    seed_month()  # 30 measured orders in October and November
    settings.REPORT_EXPORT_INLINE_ROWS = 10
    monkeypatch.setattr(tasks, "PROGRESS_EVERY", 5)
    client.force_login(finance)
    url = _export_url("sla-orders", "csv")

    offer = client.get(url)
    assert offer.status_code == 200 and b"30</strong> rows" in offer.content  # an offer, not the file
    started = client.post(url)
    job = ExportJob.objects.get()
    assert started.status_code == 302 and started["Location"] == reverse("finance-export-job", args=[job.pk])
    assert job.state == ExportState.QUEUED and job.rows_total == 30

    # The worker, paused halfway through the rows, while the person looks at the page.
    halfway, resume = threading.Event(), threading.Event()
    real_rows = REPORTS["sla-orders"].rows

    def paused_rows(f):
        for n, row in enumerate(real_rows(f), start=1):
            yield row
            if n == 15:
                halfway.set()
                resume.wait(10)

    monkeypatch.setattr(REPORTS["sla-orders"], "rows", paused_rows)
    worker = threading.Thread(target=tasks.export_run, args=[job.pk])
    worker.start()
    assert halfway.wait(10)
    page = client.get(started["Location"]).content.decode()
    resume.set()
    worker.join(20)

    assert 'data-state="running"' in page and 'http-equiv="refresh"' in page
    job.refresh_from_db()
    assert job.state == ExportState.DONE and job.rows_done == 30
    done = client.get(started["Location"]).content.decode()
    assert "Download CSV (30 rows)" in done and 'http-equiv="refresh"' not in done
    download = client.get(reverse("finance-export-download", args=[job.pk]))
    lines = b"".join(download.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 31


@pytest.mark.django_db
def test_a_job_is_its_requesters_own(client, finance, make_user):
    other = make_user("finance", username="fin2")
    job = ExportJob.objects.create(report="volume", file_format="csv", requested_by=other, state=ExportState.DONE)
    client.force_login(finance)

    assert client.get(reverse("finance-export-job", args=[job.pk])).status_code == 404
    assert client.get(reverse("finance-export-download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_operations_cannot_read_the_reports(client, make_user):
    client.force_login(make_user("operations", username="ops"))

    assert client.get(reverse("finance-reports")).status_code == 403
    assert client.get(reverse("finance-report", args=["volume"])).status_code == 403
    assert client.get(_export_url("volume", "csv")).status_code == 403


@pytest.mark.django_db
def test_a_brand_user_gets_404_on_another_brands_slice(client, make_user):
    acme, _, _ = seed_month()
    other, other_channel, _ = seed_month(brand_name="Other", slug="other")
    client.force_login(make_user("brand", brand=acme))

    assert client.get(reverse("finance-report", args=["volume"])).status_code == 200
    assert client.get(f"{reverse('finance-report', args=['volume'])}?brand={other.pk}").status_code == 404
    assert client.get(_export_url("volume", "csv", brand=str(other.pk))).status_code == 404
    assert client.get(_export_url("sla", "csv", channel=str(other_channel.pk))).status_code == 404


@pytest.mark.django_db
def test_a_bad_date_is_named_and_the_default_range_shown(client, finance):
    client.force_login(finance)

    page = client.get(f"{reverse('finance-report', args=['volume'])}?from=yesterday&to=2026-13-01").content.decode()

    assert "From: “yesterday” is not a date (YYYY-MM-DD)." in page
    assert "To: “2026-13-01” is not a date (YYYY-MM-DD)." in page
