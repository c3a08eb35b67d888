"""Exports of a report: CSV streamed in pieces of a thousand rows, XLSX written to disk row by row, both escaped
against formula injection; an export over `INLINE_ROWS` runs as a background job with progress
(`reports.tasks.export_run`).

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with = + - @ (or a tab or carriage
return before one) as a formula. Such text cells get a leading apostrophe, which spreadsheets show as text. Numbers
are written as numbers, so a negative variance stays a number."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from django.utils import timezone

from reports.finance.base import Report

INLINE_ROWS = 50_000  # above this an export runs as a background job (setting REPORT_EXPORT_INLINE_ROWS)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


def inline_limit() -> int:
    return int(getattr(settings, "REPORT_EXPORT_INLINE_ROWS", INLINE_ROWS))


def cell_text(value: Any) -> str:
    """A cell as text: dates in ISO form (local time), None empty, text escaped. Counts come first: most cells are."""
    kind = type(value)
    if kind is int or kind is Decimal or kind is float:
        return str(value)
    if kind is str:
        return escape_formula(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return str(value)
    return escape_formula(str(value))


def escape_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CHUNK_ROWS = 1000  # rows per piece of a streamed CSV: few enough to keep memory flat, enough to spare the overhead
_AS_IS = frozenset({int, float, Decimal, bool, type(None)})  # csv.writer writes these as cell_text would (None: "")
BOM = "\ufeff".encode()  # so spreadsheet programs read the file as UTF-8


def _csv_text(rows: Iterable[tuple[Any, ...]], writer: Any, buffer: io.StringIO) -> str:
    """The rows as CSV lines, text cells escaped; numbers and empty cells go to csv.writer untouched."""
    writer.writerows([[v if type(v) in _AS_IS else cell_text(v) for v in row] for row in rows])
    return _taken(buffer)


def _taken(buffer: io.StringIO) -> str:
    """What the buffer holds, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _pieces(report: Report, rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[tuple[int, bytes]]:
    """(data rows so far, bytes): the BOM, the header line, then `size` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield 0, BOM
    writer.writerow([c.label for c in report.columns])  # our own words: nothing to escape
    yield 0, _taken(buffer).encode()
    rows, n = iter(rows), 0
    while chunk := list(islice(rows, size)):
        n += len(chunk)
        yield n, _csv_text(chunk, writer, buffer).encode()


def csv_chunks(report: Report, rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """The CSV file in pieces of `CHUNK_ROWS` rows, for a streamed download: the BOM, the header line, the rows."""
    for _, piece in _pieces(report, rows, CHUNK_ROWS):
        yield piece


def csv_write(
    report: Report,
    rows: Iterable[tuple[Any, ...]],
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
    every: int = 5000,
) -> int:
    """Write the CSV file to `out`; returns the number of data rows. `progress` hears the rows written each time
    another `every` are."""
    n, next_report = 0, every
    for n, piece in _pieces(report, rows, min(CHUNK_ROWS, every)):
        out.write(piece)
        if progress is not None and n >= next_report:
            progress(n)
            next_report = (n // every + 1) * every
    return n


def xlsx_write(
    report: Report, rows: Iterable[tuple[Any, ...]], out: IO[bytes], progress: Callable[[int], None] | None = None
) -> int:
    """Write the sheet to `out` in constant memory; returns the number of data rows."""
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False, "remove_timezone": True})
    sheet = book.add_worksheet(report.title[:31])
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, column in enumerate(report.columns):
        sheet.write_string(0, col, column.label, bold)
    n = 0
    for n, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(n, col, value)
            elif isinstance(value, (int, float, Decimal)):
                sheet.write_number(n, col, float(value))
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(n, col, timezone.localtime(value).replace(tzinfo=None), when)
            elif isinstance(value, dt.date):
                sheet.write_datetime(n, col, dt.datetime.combine(value, dt.time.min), day)
            else:  # write_string never makes a formula; the escape keeps the text the same as in the CSV
                sheet.write_string(n, col, escape_formula(str(value)))
        if progress is not None and n % 5000 == 0:
            progress(n)
    book.close()
    return n


def xlsx_file(report: Report, rows: Iterable[tuple[Any, ...]]) -> IO[bytes]:
    """The sheet in a temporary file on disk (deleted when closed), rewound for reading."""
    out = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it when sent)
    xlsx_write(report, rows, out)
    out.seek(0)
    return out


def export_name(report: Report, file_format: str, at: dt.datetime | None = None) -> str:
    stamp = timezone.localtime(at or timezone.now()).strftime("%Y%m%d-%H%M%S")
    return f"{report.slug}-{stamp}.{file_format}"
