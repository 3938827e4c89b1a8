"""Charts drawn on the server as inline SVG.

No JavaScript and no inline styles (the CSP forbids both): shapes carry
presentation attributes and classes styled in council.css. Every bar and
point has a <title> (a tooltip and what a screen reader announces), and the
page shows the same numbers in a table beside the chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 640
BAR_HEIGHT = 26
GAP = 8
LABEL_WIDTH = 240


@dataclass
class Bar:
    label: str
    value: float
    href: str | None = None


@dataclass
class Point:
    label: str
    value: float | None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _shorten(text: str, limit: int = 27) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(bars: Sequence[Bar], title: str, *, css_class: str = "",
              value_format: Callable[[float], str] = _fmt) -> Markup:
    """Horizontal bars, one per row, each a link when it has an href."""
    top = max((b.value for b in bars), default=0) or 1
    height = max(len(bars), 1) * (BAR_HEIGHT + GAP) + GAP
    plot = WIDTH - LABEL_WIDTH - 60
    parts = [f'<svg class="chart bar-chart {escape(css_class)}" viewBox="0 0 {WIDTH} {height}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i, bar in enumerate(bars):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = max(round(plot * bar.value / top, 1), 1 if bar.value else 0)
        shown = value_format(bar.value)
        group = (f'<g class="bar"><title>{escape(bar.label)}: {escape(shown)}</title>'
                 f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.68:.1f}" '
                 f'text-anchor="end">{escape(_shorten(bar.label))}</text>'
                 f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" rx="3"/>'
                 f'<text class="value" x="{LABEL_WIDTH + width + 6}" y="{y + BAR_HEIGHT * 0.68:.1f}">'
                 f"{escape(shown)}</text></g>")
        if bar.href:
            group = f'<a href="{escape(bar.href)}">{group}</a>'
        parts.append(group)
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(points: Sequence[Point], title: str, *, y_max: float | None = None,
               value_format: Callable[[float], str] = _fmt, css_class: str = "") -> Markup:
    """A line over periods; a period without a value breaks the line."""
    height, left, right, top_pad, bottom = 260, 56, 16, 16, 40
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    values = [p.value for p in points if p.value is not None]
    top = y_max if y_max is not None else (max(values, default=0) or 1)
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h - plot_h * min(v, top) / top

    parts = [f'<svg class="chart line-chart {escape(css_class)}" viewBox="0 0 {WIDTH} {height}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for fraction in (0, 0.5, 1):  # grid lines with their values
        gy = top_pad + plot_h - plot_h * fraction
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
                     f"{escape(value_format(top * fraction))}</text>")
    label_every = max(1, len(points) // 10)
    for i, point in enumerate(points):
        if i % label_every == 0:
            parts.append(f'<text class="axis" x="{x(i):.1f}" y="{height - 14}" text-anchor="middle">'
                         f"{escape(point.label)}</text>")
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, point in enumerate(points):
        if point.value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(point.value):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(f'<polyline class="line" fill="none" points="{" ".join(seg)}"/>')
    for i, point in enumerate(points):
        if point.value is not None:
            parts.append(f'<circle class="point" cx="{x(i):.1f}" cy="{y(point.value):.1f}" r="5">'
                         f"<title>{escape(point.label)}: {escape(value_format(point.value))}</title></circle>")
    parts.append("</svg>")
    return Markup("".join(parts))
