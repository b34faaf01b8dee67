"""Template helpers for the overview and the export link on the call tables."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import number_format
from django.utils.safestring import SafeString

from dashboard.reports import svg
from dashboard.reports.overview import DayCount, heat_level

register = template.Library()


@register.filter
def seconds(value: float | None) -> int | None:
    """Round a median or mean duration to whole seconds for the `duration` filter."""
    return None if value is None else round(value)


@register.filter
def weekday_abbr(index: int) -> str:
    return str(WEEKDAYS_ABBR[index])


@register.filter
def heat(count: int, maximum: int) -> int:
    return heat_level(count, maximum)


@register.simple_tag
def daily_chart(days: list[DayCount], chart_id: str, title: str, desc: str) -> SafeString:
    return svg.daily_chart(days, chart_id=chart_id, title=title, desc=desc)


@register.filter
def axis_day(day) -> str:
    return svg.axis_day(day)


@register.inclusion_tag("reports/_export_link.html", takes_context=True)
def export_link(context, line, kind, call_filter, page) -> dict:
    """The "Export CSV" link of a table (and its variant for other tools), and a note when
    the view holds more than one export may: known once the pages shown reach past the cap
    (the provider has no totals), at once for the inbox (`kind` "inbox": a database count)."""
    cap = settings.EXPORT_MAX_ROWS
    params = {k: v for k, v in call_filter.params.items() if k not in ("page", "per_page")}
    over_cap = page.last_index > cap or (page.has_next and page.last_index >= cap)
    if kind == "inbox":
        url = reverse("line-inbox-export", kwargs={"line_id": line.pk})
        over_cap = page.total > cap
    elif kind == "all":
        url = reverse("line-timeline-export", kwargs={"line_id": line.pk})
    else:
        url = reverse("line-export", kwargs={"line_id": line.pk, "kind": kind})
    return {
        "request": context.get("request"),
        "line": line,
        "kind": kind,
        "url": url,
        "params": params,
        "cap_display": number_format(cap, force_grouping=True),
        "over_cap": over_cap,
    }


@register.filter
def range_params(call_filter) -> dict[str, str]:
    """Only the dates of a table's filter: what the overview tab carries over."""
    return {k: v for k, v in call_filter.params.items() if k in ("from", "to")}
