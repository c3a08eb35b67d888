"""The daily chart of one SLO as inline SVG, drawn on the server (no JavaScript): one bar per day, its height the
day's attainment, the target as a dashed line. A day below the target is drawn red and links to the events that
missed that day; a day with nothing counted is a grey tick. The SVG scales to its box (`viewBox`), so it fits a
375 px screen."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from reports.slo.report import Day

WIDTH, HEIGHT = 300, 100
TOP, BOTTOM = 6, 16  # room for the axis words under the bars


def _y(value: float) -> float:
    """0 % at the axis, 100 % at the top: a linear scale, so a worse day is always a shorter bar."""
    return round(HEIGHT - BOTTOM - max(0.0, min(value, 1.0)) * (HEIGHT - TOP - BOTTOM), 1)


def daily_chart(days: list[Day], *, target: float, title: str, link: Callable[[Day], str]) -> SafeString:
    """`link(day)`: the page of that day's misses (used for days with a miss)."""
    step = WIDTH / max(len(days), 1)
    bar = round(step * 0.7, 1)
    base = HEIGHT - BOTTOM
    parts = [
        f'<line x1="0" y1="{_y(target)}" x2="{WIDTH}" y2="{_y(target)}" class="target"/>',
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" class="axis"/>',
    ]
    for i, day in enumerate(days):
        x = round(i * step + (step - bar) / 2, 1)
        attained = day.attainment
        label = f"{day.day:%-d %b}: "
        if attained is None:
            parts.append(f'<rect x="{x}" y="{base - 1}" width="{bar}" height="1" class="empty">'
                         f"<title>{escape(label)}nothing counted</title></rect>")  # fmt: skip
            continue
        y = min(_y(attained), base - 1)
        missed = day.counts.missed if day.counts else 0
        words = f"{label}{attained * 100:.1f} % good, {missed} missed"
        kind = "bad" if attained < target else "good"
        rect = (
            f'<rect x="{x}" y="{y}" width="{bar}" height="{round(base - y, 1)}" class="{kind}" '
            f'data-day="{day.day.isoformat()}"><title>{escape(words)}</title></rect>'
        )
        if missed:
            rect = f'<a href="{escape(link(day))}" aria-label="{escape(words)}">{rect}</a>'
        parts.append(rect)
    if days:
        parts.append(f'<text x="0" y="{HEIGHT - 3}" class="tick">{days[0].day:%-d %b}</text>')
        parts.append(f'<text x="{WIDTH}" y="{HEIGHT - 3}" class="tick end">{days[-1].day:%-d %b}</text>')
    parts.append(f'<text x="2" y="{_y(target) - 2}" class="tick">target {target * 100:g} %</text>')
    body = mark_safe("".join(parts))  # noqa: S308  (every value above is a number, a date or escaped)
    return format_html(
        '<svg class="slo-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        WIDTH, HEIGHT, title, body,
    )  # fmt: skip
