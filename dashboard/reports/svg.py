"""Server-rendered, accessible SVG charts: no JavaScript, no inline styles.

Colours come from classes styled in static/css/reports.css (so dark mode and the strict
CSP both work); the SVG is `role="img"` with a <title> and <desc>, and the page next to it
carries the same numbers as a table and a sentence, for anyone who cannot see the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dashboard.reports.overview import DayCount

WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 36
MAX_X_LABELS = 8
# Bottom to top: missed calls sit on the baseline, where their heights compare best.
STACK = ("missed", "incoming", "outgoing")


def nice_ticks(maximum: int, *, count: int = 4) -> list[int]:
    """Round axis values from 0 to at least `maximum`: steps of 1, 2 or 5 times 10^k."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def _n(value: float) -> str:
    """Coordinates with two decimals: format_html escapes (stringifies) before formatting."""
    return f"{value:.2f}"


def _kind_label(kind: str, count: int) -> str:
    labels = {
        "missed": _("%(n)d missed"),
        "incoming": _("%(n)d incoming"),
        "outgoing": _("%(n)d outgoing"),
    }
    return labels[kind] % {"n": count}


def axis_day(day) -> str:
    # Translators: a date format (Django's date filter letters) for the chart's day labels,
    # e.g. "j M" → "20 Nov"; Japanese might use "n/j" → "11/20".
    return date_format(day, pgettext("chart axis day", "j M"))


def daily_chart(days: Sequence[DayCount], *, chart_id: str, title: str, desc: str) -> SafeString:
    """Stacked bars of calls per day by kind, one bar per local day (empty days included)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ticks = nice_ticks(max((d.total for d in days), default=0))
    scale = plot_h / ticks[-1]
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.72, 1.0)
    parts: list[str] = [
        format_html(
            '<svg class="chart chart-daily" id="{}" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{}-title {}-desc" focusable="false">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            chart_id,
            WIDTH,
            HEIGHT,
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            desc,
        )
    ]
    for value in ticks:
        y = TOP + plot_h - value * scale
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
                '<text class="axis axis-y" x="{}" y="{}">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                _n(y),
                _n(y),
                LEFT - 6,
                _n(y + 4),
                value,
            )
        )
    label_every = max(math.ceil(len(days) / MAX_X_LABELS), 1)
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar_w) / 2
        base = TOP + plot_h
        when = axis_day(day.day)
        for kind in STACK:
            count = getattr(day, kind)
            if not count:
                continue
            h = count * scale
            base -= h
            parts.append(
                format_html(
                    '<rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {}</title></rect>",
                    kind,
                    _n(x),
                    _n(base),
                    _n(bar_w),
                    _n(h),
                    when,
                    _kind_label(kind, count),
                )
            )
        if i % label_every == 0:
            parts.append(
                format_html(
                    '<text class="axis axis-x" x="{}" y="{}">{}</text>',
                    _n(LEFT + i * slot + slot / 2),
                    HEIGHT - BOTTOM + 18,
                    when,
                )
            )
    parts.append(
        format_html(
            '<line class="baseline" x1="{}" x2="{}" y1="{}" y2="{}"></line></svg>',
            LEFT,
            WIDTH - RIGHT,
            TOP + plot_h,
            TOP + plot_h,
        )
    )
    # Every piece above went through format_html (escaped); joining keeps it safe.
    return mark_safe("".join(parts))  # noqa: S308
