"""`{% load formats %}`: the template side of dashboard/formats.py, the one way days,
ranges, full timestamps and percentages are written (table times: `{% timestamp %}`)."""

from __future__ import annotations

from datetime import date, datetime, time

from django import template

from dashboard import formats

register = template.Library()


@register.filter
def clock(value: datetime | time | None) -> str:
    """A time of day: '9:00', '18:30'."""
    return "" if value is None else formats.clock(value)


@register.filter
def day(value: date | None) -> str:
    """'Wed 4 Nov'; the year only when it is not this one."""
    return formats.day(value)


@register.simple_tag
def day_range(start: date | None, end: date | None) -> str:
    """'28 Oct – 3 Nov', 'from 4 Nov', 'until 3 Nov'."""
    return formats.day_range(start, end)


@register.filter
def full_time(value: datetime | None) -> str:
    """'3 Dec 2026, 10:15:03' in the viewer's zone."""
    return formats.full_timestamp(value)


@register.simple_tag
def full_time_format() -> str:
    """The full timestamp's date format, for app.js's tooltips."""
    return formats.full_timestamp_format()


@register.simple_tag
def month_abbreviations() -> str:
    """The months' short names, comma-separated, for app.js's tooltips."""
    return ",".join(formats.month_abbreviations())


@register.filter
def percent(rate: float | None) -> str:
    """0.1234 → '12.3%'; None → an em dash."""
    return formats.percent(rate)


@register.filter
def points(change: float | None) -> str:
    """A signed change in percentage points: '+2.5', '−1.0'."""
    return formats.points(change)
