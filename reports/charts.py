"""Charts drawn on the server as inline SVG: no JavaScript library, readable by screen readers (a title per bar and
a summary), and scaled to the page width by the viewBox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 48, 28, 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    css: str = ""  # an extra class, e.g. "bad" for a day that missed its target
    href: str = ""  # a bar may link to its evidence


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart(title: str, bars: Sequence[Bar], *, unit: str = "", target: float | None = None) -> SafeString:
    """Bars left to right; an optional dashed target line. Empty data draws a note instead of an empty frame."""
    if not bars:
        return format_html('<p class="chart-empty">{}: no data in this range.</p>', title)
    top = _nice_max(max([b.value for b in bars] + ([target] if target is not None else [])))
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / len(bars)
    width = max(1.0, step * 0.8)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for frac in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - frac)
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(top * frac))}</text>'
        )
    for i, bar in enumerate(bars):
        h = plot_h * (bar.value / top) if top else 0
        x, y = PAD_LEFT + i * step + (step - width) / 2, PAD_TOP + plot_h - h
        rect = (
            f'<rect class="bar {escape(bar.css)}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(h, 0):.1f}">'
            f"<title>{escape(bar.label)}: {escape(_fmt(bar.value))}{escape(' ' + unit if unit else '')}</title></rect>"
        )
        parts.append(f'<a href="{escape(bar.href)}">{rect}</a>' if bar.href else rect)
    every = max(1, len(bars) // 6)
    for i in range(0, len(bars), every):
        x = PAD_LEFT + i * step + step / 2
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(bars[i].label[-10:])}</text>'
        )
    if target is not None:
        y = PAD_TOP + plot_h * (1 - target / top)
        parts.append(f'<line class="target" x1="{PAD_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated text above is escaped)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.2f}"
