"""The monthly SLO statement of a brand, for its own reporting: CSV (one row per connection and SLO for the month,
then one per day) and PDF (the same month figures in a table, and the month's incidents in plain words).

The PDF is drawn with ReportLab: a long-kept, widely used pure-Python PDF library, with no system libraries (no
browser or HTML renderer to install on the server)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from reports.slo.report import BrandReport, Card

CSV_COLUMNS = [
    "brand", "period", "connection", "slo", "promise", "unit", "target", "valid", "good", "attainment", "met",
    "error_budget_left", "events", "missed",
]  # fmt: skip


def _pct(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value * 100:.{digits}f}"


def _month_row(report: BrandReport, card: Card) -> list[str]:
    b = card.budget
    return [
        report.brand.name, f"{report.first:%Y-%m}", card.connection, card.slo.name, card.slo.promise,
        card.slo.unit.value, _pct(card.slo.target), str(b.valid), str(b.good), _pct(b.attainment),
        "" if b.met is None else ("yes" if b.met else "no"), _pct(b.budget_left), str(card.events), str(card.missed),
    ]  # fmt: skip


def as_csv(report: BrandReport) -> tuple[bytes, str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for card in report.cards:
        writer.writerow(_month_row(report, card))
    for card in report.cards:
        for day in card.days:
            c = day.counts
            if c is None:
                continue
            writer.writerow([
                report.brand.name, day.day.isoformat(), card.connection, card.slo.name, card.slo.promise,
                card.slo.unit.value, _pct(card.slo.target), str(c.valid), str(c.good), _pct(day.attainment),
                "yes" if (day.attainment or 0) >= card.slo.target else "no", "", str(c.events), str(c.missed),
            ])  # fmt: skip
    return out.getvalue().encode(), "text/csv; charset=utf-8"


def as_pdf(report: BrandReport) -> tuple[bytes, str]:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"SLO statement {report.brand.name} {report.first:%B %Y}",
    )  # fmt: skip
    story = [
        Paragraph(f"SLO statement · {_esc(report.brand.name)} · {report.first:%B %Y}", styles["Title"]),
        Paragraph(
            f"{report.first:%-d %b} to {report.last:%-d %b %Y} (UTC). Ingest and fulfilment write count minutes "
            "with events, good when their median is within the threshold; the reconciler counts each record.",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    rows = [["Connection", "SLO", "Target", "Attainment", "Met", "Error budget left", "Events", "Missed"]]
    for card in report.cards:
        b = card.budget
        rows.append([
            card.connection, card.slo.promise, f"{_pct(card.slo.target, 0)} %",
            f"{_pct(b.attainment)} %" if b.attainment is not None else "no data",
            "" if b.met is None else ("yes" if b.met else "no"),
            f"{_pct(b.budget_left, 1)} %" if b.budget_left is not None else "", str(card.events), str(card.missed),
        ])  # fmt: skip
    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle([
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ])
    )  # fmt: skip
    story += [table, Spacer(1, 6 * mm), Paragraph("Incidents", styles["Heading2"])]
    if report.incidents:
        story += [Paragraph(_esc(i.words), styles["Normal"]) for i in report.incidents]
    else:
        story.append(Paragraph("No incident touched these connections this month.", styles["Normal"]))
    doc.build(story)
    return buffer.getvalue(), "application/pdf"


def _esc(text: str) -> str:
    """ReportLab's paragraphs read a little markup: plain text is escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FORMATS: dict[str, Callable[[BrandReport], tuple[bytes, str]]] = {"csv": as_csv, "pdf": as_pdf}
