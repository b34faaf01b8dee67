"""Formatting helpers for call rows: durations, phone numbers, friendly times."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from urllib.parse import quote_plus, urlencode

from django import template
from django.template import defaultfilters, defaulttags
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard import formats
from dashboard.calls.phone import display
from dashboard.text import fold_spans

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """187 -> '3:07', 3725 -> '1:02:05'; unknown -> an em dash."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


@register.filter
def phone(number: str) -> str:
    """Group an international number for reading ('+32 470 12 34 56'); leave others as sent."""
    return display(number or "")


@register.filter
def highlight(text: str, term: str) -> str:
    """`text` with each match of the search `term` (what the provider was sent,
    `CallFilter.search`) in a `<mark>`, everything else escaped; `text` unchanged (left to
    autoescaping) when nothing matches. Digits match across a number's grouping
    (`486398674` in `+32 486 39 86 74`); words match case- and accent-blind, as the
    provider compares them. A term with LIKE wildcards (`%`, `_`) is left unmarked."""
    text = "" if text is None else str(text)
    if not term or not text or any(ch in term for ch in "%_\\"):
        return text
    return _highlight(text, str(term))


_DIALLED = re.compile(r"\+?[0-9]+")


@functools.lru_cache(maxsize=8192)
def _highlight(text: str, term: str) -> str:
    spans = _number_spans(text, term) if _DIALLED.fullmatch(term) else []
    spans = spans or fold_spans(text, term)
    if not spans:
        return text
    parts, at = [], 0
    for start, end in spans:
        parts += [escape(text[at:start]), "<mark>", escape(text[start:end]), "</mark>"]
        at = end
    parts.append(escape(text[at:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text escaped above


def _number_spans(text: str, term: str) -> list[tuple[int, int]]:
    """Where the digits (and `+`) of `term` run through `text`, skipping its spaces,
    dots and dashes."""
    kept = [(i, ch) for i, ch in enumerate(text) if ch.isdigit() or ch == "+"]
    compact = "".join(ch for _, ch in kept)
    spans, at = [], compact.find(term)
    while at != -1:
        spans.append((kept[at][0], kept[at + len(term) - 1][0] + 1))
        at = compact.find(term, at + len(term))
    return spans


@register.filter
def friendly_time(value: datetime | None) -> str:
    """A table time (dashboard/formats.py): 'Today 14:03', 'Mon 9:41', '12 Nov 2025'."""
    if value is None:
        return ""
    return formats.table_time(timezone.localtime(value), timezone.localdate())


@register.simple_tag
def timestamp(value: datetime | None, css_class: str = "", *, tooltip: bool = True) -> str:
    """`<time>` for a moment: the friendly time, the exact one as its tooltip, ISO 8601 as
    its `datetime`. Table rows leave the tooltip out: it is a tenth of a row's bytes."""
    if value is None:
        return ""
    zone = timezone.get_current_timezone()
    language = translation.get_language()
    return _timestamp(value, zone, language, timezone.localdate(), css_class, tooltip)


# A table draws one per row, and the same calls come back on every view of a line (other
# filters, sorts, the next fetch): all it depends on is in the key.
@functools.lru_cache(maxsize=8192)
def _timestamp(
    value: datetime, zone, language: str | None, today: date, css_class: str, tooltip: bool
) -> str:
    local = timezone.localtime(value, zone)
    return format_html(
        '<time{} datetime="{}"{}>{}</time>',
        format_html(' class="{}"', css_class) if css_class else "",
        local.isoformat(),  # what the `date:"c"` filter gives, without its format parsing
        format_html(' title="{} ({})"', formats.full_timestamp(local, zone), str(zone))
        if tooltip
        else "",
        formats.table_time(local, today),
    )


@register.filter
def ago(value: datetime | None) -> str:
    """A short age: '12 s', '4 min', '2 h', '3 days'."""
    if value is None:
        return ""
    seconds = max(int((timezone.now() - value).total_seconds()), 0)
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)d min") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(n)d h") % {"n": seconds // 3600}
    days = seconds // 86400
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.filter
def clip(value: str, length: int) -> str:
    """`truncatechars`, minus its cost for the usual value that needs no cutting (shown
    exactly as sent; truncatechars would also normalise its Unicode)."""
    value = str(value)
    return value if len(value) <= length else defaultfilters.truncatechars(value, length)


# Where a list is, beyond its filter: a search for a number starts again from the top.
_POSITION = ("page", "cursor", "before")


@register.filter
def searching(params: dict[str, str], number: str) -> str:
    """The query string of this list's filter (`params`) searching for `number`, from its
    first page: what `{% query params q=number page=None %}` gives, at a row's cost."""
    # Values as urlencode reads them, str() of whatever they are (which also makes the
    # memo key hashable when a value is a list).
    before, after = _around_search(tuple((k, str(v)) for k, v in params.items()))
    return f"{before}{quote_plus(str(number))}{after}"


# Every row of a table links a search with the same filter: encoded once, around `q`.
@functools.lru_cache(maxsize=256)
def _around_search(params: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    carried = [(k, v) for k, v in params if k not in _POSITION]
    names = [k for k, _ in carried]
    at = names.index("q") if "q" in names else len(carried)  # q keeps its place
    before, after = urlencode(carried[:at]), urlencode(carried[at + 1 :])
    return f"?{before}&q=" if before else "?q=", f"&{after}" if after else ""


@register.simple_tag(takes_context=True)
def query(context, *args, **kwargs) -> str:
    """Django's {% querystring %}, but "" rather than a bare "?" when nothing is left, so
    links read /lines/3/incoming/ and not /lines/3/incoming/?."""
    result = defaulttags.querystring(context, *args, **kwargs)
    return "" if result == "?" else result


@register.simple_tag(takes_context=True)
def same_view_for_line(context, other, params=None) -> str:
    """The screen being shown (same view, same kind), for line `other`, with `params`."""
    match = context["request"].resolver_match
    url = reverse(match.view_name, kwargs={**match.kwargs, "line_id": other.pk})
    return url + query(context, params or {})
