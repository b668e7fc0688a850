"""Charts drawn on the server as accessible SVG: no JavaScript, no inline styles.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described
by its ``<desc>`` (which lists the figures), and the page always shows the
same figures in a table beside it. Colours come from classes in
static/css/dugnad.css (the content security policy forbids inline styles).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.formatting import number, short_date

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 210
BAR_AREA = 330
VALUE_WIDTH = 60
LABEL_CHARS = 30

LINE_WIDTH = 600
LINE_HEIGHT = 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 16, 36


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    display: str = ""  # what to print at the bar's end; defaults to the value


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    svg: SafeString

    def __str__(self) -> str:
        return self.svg

    def __html__(self) -> str:
        return self.svg


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _frame(chart_id: str, title: str, description: str, width: int, height: int, body: str):
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'preserveAspectRatio="xMinYMin meet" focusable="false">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc=description,
        body=mark_safe(body),  # noqa: S308 (built below from escaped parts only)
    )


def bar_chart(*, chart_id: str, title: str, description: str, bars: list[Bar]) -> Chart:
    """Horizontal bars, one per row, longest value full width."""
    biggest = max((b.value for b in bars), default=0) or 1
    parts = []
    for n, bar in enumerate(bars):
        y = n * (BAR_HEIGHT + BAR_GAP)
        width = round(BAR_AREA * bar.value / biggest) if bar.value > 0 else 0
        parts.append(
            format_html(
                '<g class="chart-bar"><text class="chart-label" x="{lx}" y="{ty}" '
                'text-anchor="end">{label}</text>'
                '<rect class="chart-fill" x="{x}" y="{y}" width="{w}" height="{h}" rx="2"></rect>'
                '<text class="chart-value" x="{vx}" y="{ty}">{value}</text></g>',
                lx=LABEL_WIDTH - 8,
                ty=y + BAR_HEIGHT - 6,
                label=_short(bar.label),
                x=LABEL_WIDTH,
                y=y,
                w=max(width, 1) if bar.value > 0 else 0,
                h=BAR_HEIGHT,
                vx=LABEL_WIDTH + max(width, 1) + 6,
                value=bar.display or str(bar.value),
            )
        )
    height = max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP)
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    svg = _frame(chart_id, title, description, width, height, "".join(parts))
    return Chart(chart_id, title, description, svg)


def line_chart(
    *, chart_id: str, title: str, description: str, points: list[tuple[dt.date, int]]
) -> Chart:
    """A cumulative line with the area below it; x is the calendar, y starts at zero."""
    inner_w = LINE_WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = LINE_HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [
        format_html(
            '<line class="chart-axis" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"></line>'
            '<line class="chart-axis" x1="{x0}" y1="{yt}" x2="{x0}" y2="{y0}"></line>',
            x0=PAD_LEFT,
            x1=PAD_LEFT + inner_w,
            y0=PAD_TOP + inner_h,
            yt=PAD_TOP,
        )
    ]
    if points:
        first, last = points[0][0], points[-1][0]
        span = max((last - first).days, 1)
        top = max(v for _d, v in points) or 1

        def xy(day: dt.date, value: int) -> tuple[float, float]:
            x = PAD_LEFT + inner_w * (day - first).days / span
            if first == last:
                x = PAD_LEFT + inner_w / 2
            return round(x, 1), round(PAD_TOP + inner_h * (1 - value / top), 1)

        coords = [xy(d, v) for d, v in points]
        line = " ".join(f"{x},{y}" for x, y in coords)
        base = PAD_TOP + inner_h
        area = f"{coords[0][0]},{base} {line} {coords[-1][0]},{base}"
        parts.append(format_html('<polygon class="chart-area" points="{}"></polygon>', area))
        parts.append(format_html('<polyline class="chart-line" points="{}"></polyline>', line))
        for x, y in coords:
            parts.append(
                format_html('<circle class="chart-dot" cx="{}" cy="{}" r="3"></circle>', x, y)
            )
        parts.append(
            format_html(
                '<text class="chart-label" x="{x}" y="{y}" text-anchor="end">{top}</text>'
                '<text class="chart-label" x="{x}" y="{y0}" text-anchor="end">0</text>'
                '<text class="chart-label" x="{x0}" y="{yd}">{first}</text>'
                '<text class="chart-label" x="{x1}" y="{yd}" text-anchor="end">{last}</text>',
                x=PAD_LEFT - 6,
                y=PAD_TOP + 10,
                top=number(top),
                y0=PAD_TOP + inner_h,
                x0=PAD_LEFT,
                x1=PAD_LEFT + inner_w,
                yd=LINE_HEIGHT - 12,
                first=short_date(first),
                last=short_date(last),
            )
        )
    svg = _frame(chart_id, title, description, LINE_WIDTH, LINE_HEIGHT, "".join(parts))
    return Chart(chart_id, title, description, svg)


def describe(intro: str, items: list[tuple[str, str]]) -> str:
    """A chart's description: the intro, then every label with its figure."""
    listed = "; ".join(f"{label}: {value}" for label, value in items)
    return f"{intro} {listed}".strip() if listed else intro
