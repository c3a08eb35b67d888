"""The finance report pages: an index, one page per report (filters, chart, table, downloads), and the page of a
background export. Everything here reads; the only write is an export job a person starts with a button."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from reports.charts import Bar, bar_chart
from reports.finance.access import can_export, can_read
from reports.finance.base import PAGE_ROWS, Report, display
from reports.finance.exports import FORMATS, csv_chunks, export_name, inline_limit, xlsx_file
from reports.finance.filters import ReportFilter, report_filter
from reports.finance.registry import REPORTS
from reports.models import ExportJob, ExportState
from reports.tasks import export_enqueue
from warehouse.models import Facility, SalesChannel
from warehouse.roles import brands_visible_to

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _readable(request: HttpRequest, slug: str | None = None) -> Report | None:
    if not can_read(request.user):
        raise PermissionDenied("The finance reports are for finance, managers, administrators and brands.")
    if slug is None:
        return None
    report = REPORTS.get(slug)
    if report is None:
        raise Http404("no such report")
    return report


@login_required
@require_GET
def report_index(request: HttpRequest) -> HttpResponse:
    _readable(request)
    return render(request, "reports/finance/index.html", {"reports": REPORTS.values(), "nav": "reports"})


def _choices(request: HttpRequest) -> dict[str, Any]:
    brands = list(brands_visible_to(request.user).order_by("name"))  # type: ignore[arg-type]
    return {
        "brands": brands,
        "channels": list(SalesChannel.objects.filter(brand__in=brands).select_related("brand").order_by("name")),
        "facilities": list(Facility.objects.order_by("code")),
    }


@login_required
@require_GET
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    report = _readable(request, slug)
    assert report is not None
    choices = _choices(request)
    f = report_filter(request.GET, request.user, visible=choices["brands"])
    rows = list(islice(report.rows(f), PAGE_ROWS + 1))
    series = report.chart(rows[:PAGE_ROWS])
    chart = bar_chart(series.title, [Bar(label, value) for label, value in series.points], unit=series.unit)
    return render(
        request,
        "reports/finance/report.html",
        {
            "report": report,
            "filter": f,
            "query": urlencode(f.as_params()),
            "table": table_body(report, rows[:PAGE_ROWS]),
            "more": len(rows) > PAGE_ROWS,
            "page_rows": PAGE_ROWS,
            "chart": chart,
            "may_export": can_export(request.user),
            "formats": FORMATS,
            "nav": "reports",
            **choices,
        },
    )


def table_body(report: Report, rows: list[tuple[Any, ...]]) -> SafeString:
    """The table's rows as HTML, built here rather than in a template loop: a 500-row report renders ten times
    faster, and every value is escaped."""
    kinds = [c.kind for c in report.columns]
    return mark_safe(  # noqa: S308  (each cell escaped below)
        "".join(
            "<tr>"
            + "".join(f'<td class="{k}">{escape(display(v))}</td>' for v, k in zip(row, kinds, strict=True))
            + "</tr>"
            for row in rows
        )
    )


def _exportable(request: HttpRequest, slug: str, file_format: str) -> tuple[Report, ReportFilter]:
    report = _readable(request, slug)
    assert report is not None
    if not can_export(request.user):
        raise PermissionDenied("Downloading reports needs the export permission.")
    if file_format not in FORMATS:
        raise Http404("no such format")
    return report, report_filter(request.GET, request.user)


@login_required
@require_http_methods(["GET", "POST"])
def report_export(request: HttpRequest, slug: str, file_format: str) -> HttpResponseBase:
    """GET: the file, streamed, when the export is small; else a page offering to run it in the background.
    POST: start that background export."""
    report, f = _exportable(request, slug, file_format)
    if f.errors:
        return redirect(f"{reverse('finance-report', args=[slug])}?{urlencode(f.as_params())}")
    rows_expected = report.row_estimate(f)
    if request.method == "POST":
        job = ExportJob.objects.create(
            report=slug,
            params=f.as_params(),
            file_format=file_format,
            requested_by=request.user,  # type: ignore[misc]  # signed in: login_required
            rows_total=rows_expected,
        )
        transaction.on_commit(lambda: export_enqueue(job.pk))
        return redirect("finance-export-job", pk=job.pk)
    if rows_expected > inline_limit():
        return render(
            request,
            "reports/finance/export_confirm.html",
            {
                "report": report,
                "filter": f,
                "rows_expected": rows_expected,
                "file_format": file_format,
                "nav": "reports",
                "query": urlencode(f.as_params()),
            },
        )
    name = export_name(report, file_format)
    if file_format == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            csv_chunks(report, report.rows(f)), content_type=CONTENT_TYPES["csv"]
        )
    else:
        response = FileResponse(xlsx_file(report, report.rows(f)), content_type=CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    if not can_export(request.user):
        raise PermissionDenied("Downloading reports needs the export permission.")
    return get_object_or_404(ExportJob, pk=pk, requested_by=request.user)


@login_required
@require_GET
def export_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    report = REPORTS.get(job.report)
    return render(request, "reports/finance/export_job.html", {"job": job, "report": report, "nav": "reports"})


@login_required
@require_GET
def export_job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _own_job(request, pk)
    if job.state != ExportState.DONE or not job.file_name:
        raise Http404("this export is not ready")
    handle = default_storage.open(job.file_name, "rb")
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(job.file_format, "application/octet-stream"))
    response["Content-Disposition"] = f'attachment; filename="{job.file_name.rsplit("/", 1)[-1]}"'
    return response
