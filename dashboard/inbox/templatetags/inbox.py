"""Inbox counts and times for templates: `{% open_count line %}` (the count every screen
shows, kept live by app.js), `{% inbox_counts lines as counts %}`, `|count_for:line`,
`|minutes_text`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from urllib.parse import urlencode

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard.inbox.listing import open_count as count_open
from dashboard.inbox.listing import open_counts
from dashboard.lines.models import Line

register = template.Library()


@register.simple_tag(takes_context=True)
def open_count(context: template.Context, line: Line) -> str:
    """The line's open callers as a badge that app.js updates after every change (a
    database count: templates never ask the provider)."""
    n = context.get("open_total")
    if n is None or context.get("line") != line:
        n = count_open(line)
    return _badge(line.pk, n)


def _badge(line_id: int, n: int) -> str:
    label = ngettext("%(n)d open caller", "%(n)d open callers", n) % {"n": n}
    return format_html(
        '<span class="count" data-open-count="{}" title="{}"{}>{}</span>',
        line_id,
        label,
        "" if n else " hidden",
        n,
    )


@register.simple_tag
def inbox_counts(lines: Iterable[Line] | Callable[[], Iterable[Line]]) -> dict[int, int]:
    """Open callers per line id for a list of lines, in one query."""
    if callable(lines):
        lines = lines()
    return open_counts([line.pk for line in lines])


@register.simple_tag
def count_badge(counts: dict[int, int], line: Line) -> str:
    return _badge(line.pk, counts.get(line.pk, 0))


@register.filter
def minutes_text(value: timedelta | None) -> str:
    """A waiting time or time to callback, short: "45 min", "2 h 05", "3 d 4 h"."""
    if value is None:
        return "—"
    minutes = max(int(value.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)02d") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@register.simple_tag
def waited(episode, now) -> str:
    """How long the caller has waited (open) or waited for us (closed)."""
    if episode.is_open:
        return minutes_text(now - episode.first_attempt_at)
    return minutes_text(episode.time_to_callback)


@register.simple_tag
def is_overdue(episode, now) -> bool:
    return bool(episode.is_open and episode.due_at and episode.due_at < now)


@register.simple_tag
def title_count(line: Line) -> str:
    """ "(3) " before the page title while the line has open callers (app.js keeps it)."""
    n = count_open(line)
    return f"({n}) " if n else ""


@register.filter
def urlencode_params(params: dict[str, str]) -> str:
    """A filter's params as a query string (the bulk form re-renders that very view)."""
    return urlencode(params)
