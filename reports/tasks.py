"""django-q2 tasks of the reports app: background exports, the daily storage snapshot, scheduled CSV exports."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage, storages
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from reports.finance.billing import storage_snapshot_take
from reports.finance.exports import csv_write, export_name, xlsx_write
from reports.finance.filters import report_filter
from reports.finance.registry import REPORTS
from reports.finance.volume import volume_rollup as volume_rollup_days
from reports.models import ExportJob, ExportState

log = logging.getLogger(__name__)

EXPORT_TIMEOUT_S = 3600  # a million rows take minutes; the cluster's 60 s default would kill it
PROGRESS_EVERY = 5000


def export_enqueue(job_id: int) -> None:
    async_task("reports.tasks.export_run", job_id, timeout=EXPORT_TIMEOUT_S, task_name=f"export-{job_id}")


def export_run(job_id: int) -> None:
    """Write the job's file. Claimed by a conditional update, so a second delivery of the task does nothing."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(state=ExportState.RUNNING)
    if not claimed:
        return
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    report = REPORTS[job.report]
    f = report_filter(job.params, job.requested_by)  # scoped to what the person may see, as on the page

    def progress(n: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(rows_done=n)

    try:
        with tempfile.TemporaryFile() as out:
            if job.file_format == "csv":
                n = csv_write(report, report.rows(f), out, progress, every=PROGRESS_EVERY)
            else:
                n = xlsx_write(report, report.rows(f), out, progress)
            out.seek(0)
            name = default_storage.save(
                f"exports/{job.requested_by_id}/{export_name(report, job.file_format)}", File(out)
            )
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.DONE, rows_done=n, rows_total=F("rows_done"), file_name=name, finished_at=timezone.now()
        )
    except Exception as exc:  # the person sees that it failed, and the log has the cause
        log.exception("export %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.FAILED, error=type(exc).__name__, finished_at=timezone.now()
        )


def volume_rollup() -> int:
    return volume_rollup_days()


def storage_snapshot() -> int:
    return storage_snapshot_take()


def scheduled_exports(reports: list[str] | None = None) -> list[str]:
    """Yesterday's reports as CSV into the `report_exports` storage (a folder, or a bucket through django-storages),
    one file per report with a timestamp in its name. Runs as a system reader that sees every brand."""
    wanted = reports or list(getattr(settings, "REPORT_EXPORTS", ["volume", "sla", "variance", "returns", "billing"]))
    reader = _system_reader()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    target = storages["report_exports"]
    written = []
    for slug in wanted:
        report = REPORTS[slug]
        f = report_filter({"from": yesterday.isoformat(), "to": yesterday.isoformat()}, reader)
        with tempfile.TemporaryFile() as out:
            csv_write(report, report.rows(f), out)
            out.seek(0)
            written.append(target.save(export_name(report, "csv"), File(out)))
    return written


def _system_reader() -> Any:
    """A stand-in user that sees every brand (the schedule acts for the company, not for a person)."""

    class _System:
        is_authenticated = True
        is_active = True
        pk = None

        def has_perm(self, perm: str, obj: Any = None) -> bool:
            return True

    return _System()
