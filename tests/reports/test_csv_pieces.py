"""The CSV written in pieces (`csv_chunks` for downloads, `csv_write` for jobs and scheduled exports) is byte for byte
the file the row-by-row writer made: same BOM and header, same quoting, the same escape of text cells that would start
a formula, numbers and empty cells as before; and a job hears its progress every `every` rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orders.models import OrderState
from reports.finance.base import Column, Report
from reports.finance.exports import CHUNK_ROWS, cell_text, csv_chunks, csv_write

CELLS = [
    "plain", "=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "a, b", 'say "hi"',
    "two\nlines", "", None, 0, -5, 12345678901234567890, Decimal("-1.50"), Decimal("0.00"), 1.25, -0.1, True, False,
    dt.date(2026, 11, 30), dt.datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("Europe/Madrid")),
    dt.datetime(2026, 3, 29, 1, 59, tzinfo=dt.UTC), OrderState.CANCELLED, "ünïcödé €", "-", "'already quoted",
]  # fmt: skip


class _Sample(Report):
    slug = "sample"
    title = "Sample"
    description = "Every kind of cell"
    columns = [Column("a", "Day"), Column("b", "Brand, name"), Column("c", 'The "count"'), Column("d", "=not escaped")]


def _row_by_row(report: Report, rows) -> bytes:
    """The writer the pieces replaced: one csv.writer line per row, every cell through `cell_text`."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    out = ["\ufeff".encode(), writer.writerow([c.label for c in report.columns]).encode()]
    out += [writer.writerow([cell_text(v) for v in row]).encode() for row in rows]
    return b"".join(out)


def _rows(n: int) -> list[tuple]:
    """n rows of four cells, walking through CELLS, and the odd one-cell row (an empty record is written as "")."""
    rows = [tuple(CELLS[(i + k) % len(CELLS)] for k in range(4)) for i in range(n)]
    return [*rows, ("",), (None,), ("=1",), ()]


@pytest.mark.parametrize("n", [0, 1, CHUNK_ROWS - 4, CHUNK_ROWS, 2 * CHUNK_ROWS + 7])
def test_the_pieces_are_the_row_by_row_files_bytes(settings, n):
    settings.TIME_ZONE = "Europe/Madrid"  # datetimes are written in local time
    rows = _rows(n)

    pieces = list(csv_chunks(_Sample(), iter(rows)))

    assert b"".join(pieces) == _row_by_row(_Sample(), rows)
    assert len(pieces) == 2 + -(-len(rows) // CHUNK_ROWS)  # BOM, header, then a piece per CHUNK_ROWS rows
    out = io.BytesIO()
    assert csv_write(_Sample(), iter(rows), out) == len(rows)
    assert out.getvalue() == b"".join(pieces)


def test_an_empty_report_is_its_bom_and_header():
    out = io.BytesIO()

    assert csv_write(_Sample(), [], out) == 0
    assert out.getvalue() == '\ufeffDay,"Brand, name","The ""count""",=not escaped\r\n'.encode()


@pytest.mark.parametrize(
    ("rows", "every", "heard"), [(12, 5, [5, 10]), (10, 5, [5, 10]), (4, 5, []), (12_345, 5000, [5000, 10_000])]
)
def test_a_job_hears_its_progress_every_so_many_rows(rows, every, heard):
    calls: list[int] = []

    n = csv_write(_Sample(), _rows(rows - 4), io.BytesIO(), calls.append, every=every)

    assert n == rows and calls == heard
