"""Formatting helpers for call rows: durations, phone numbers, friendly times."""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import date, datetime, timedelta
from urllib.parse import quote_plus, urlencode

from django import template
from django.conf import settings
from django.template import defaultfilters, defaulttags
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from dashboard.calls.phone import display
from dashboard.ops.local_cache import LocalCache
from dashboard.ops.safe_cache import safe_cache
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
    """'Today 14:03', 'Yesterday 9:41', 'Mon 9:41' within a week, '12 Nov 14:03', '12 Nov 2025'."""
    if value is None:
        return ""
    return _friendly(timezone.localtime(value), timezone.localdate())


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
        format_html(' title="{} {}"', f"{local:%Y-%m-%d %H:%M:%S}", local.tzname())
        if tooltip
        else "",
        _friendly(local, today),
    )


def _friendly(local: datetime, today: date) -> str:
    day = local.date()
    clock = f"{local.hour}:{local.minute:02d}"
    if day == today:
        return _("Today %(time)s") % {"time": clock}
    if day == today - timedelta(days=1):
        return _("Yesterday %(time)s") % {"time": clock}
    if today - timedelta(days=6) <= day < today:
        # Translators: a weekday of the past week ("Mon") and a clock time ("9:41").
        return pgettext("friendly time", "%(weekday)s %(time)s") % {
            "weekday": _day_name(day, "D"),
            "time": clock,
        }
    if day.year == today.year:
        # Translators: a date and a clock time, "12 Nov 14:03".
        return pgettext("friendly time", "%(date)s %(time)s") % {
            # Translators: a Django date format (the `date` filter's letters) for a day
            # of the current year: "12 Nov" in English.
            "date": _day_name(day, pgettext("date format, day of this year", "j M")),
            "time": clock,
        }
    # Translators: a Django date format for a day of another year: "12 Nov 2025".
    return _day_name(day, pgettext("date format, day of another year", "j M Y"))


def _day_name(day: date, format: str) -> str:
    return _day_name_in(day, format, translation.get_language())


# Formatting a date is most of a friendly time's cost, and a table shows a few days many
# times over. The language is part of the key: month and weekday names are translated.
@functools.lru_cache(maxsize=4096)
def _day_name_in(day: date, format: str, language: str | None) -> str:
    return date_format(day, format)


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
_POSITION = ("page", "cursor", "before", "scan")


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


# A fragment's key names everything it is rendered from (the release, the upstream answer
# by its fetch time), so what is stored under a key never changes: each process keeps the
# recent ones too, for as long as the shared cache does, and skips it for them. 50-100 KB each
# (50 or 100 rows): 128 of them, up to about 12 MB per process.
_fragments_here = LocalCache(max_entries=128)


class _CachedFragmentNode(template.Node):
    def __init__(self, nodelist: template.NodeList, timeout, vary_on: list, new=None) -> None:
        self.nodelist = nodelist
        self.timeout = timeout
        self.vary_on = vary_on
        self.new = new

    def render(self, context) -> str:
        parts = [_release(), *(str(var.resolve(context)) for var in self.vary_on)]
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
        key = f"fragment:{digest}"
        timeout = float(self.timeout.resolve(context))
        # `new`: the parts name an answer this very request fetched, so nothing can be
        # stored under the key yet; looking would cost a cache round trip for nothing.
        new = self.new is not None and self.new.resolve(context)
        cached = None if new else _fragments_here.get(key) or safe_cache.get(key)
        if isinstance(cached, str):
            _fragments_here.set(key, cached, ttl=timeout)
            return mark_safe(cached)  # noqa: S308 - our own rendered, escaped output
        rendered = str(self.nodelist.render(context))
        safe_cache.set(key, rendered, timeout)
        _fragments_here.set(key, rendered, ttl=timeout)
        return mark_safe(rendered)  # noqa: S308 - as above


def _release() -> str:
    """What else decides a fragment's HTML: the release (code, templates and catalogues,
    fixed when it was built: dashboard/release.py) and the settings it shows. Part of
    every key, so instances of two releases sharing one Redis (a rolling deploy) never
    serve each other's HTML."""
    return f"{settings.RELEASE}\x1f{settings.EXPORT_MAX_ROWS}"


@register.tag
def cached_fragment(parser, token):
    """`{% cached_fragment TIMEOUT part part … [new=EXPR] %}…{% endcached_fragment %}`: like
    Django's `{% cache %}`, but a cache outage renders the fragment instead of failing the
    page, and the key is a hash of every part (so it names nothing personal). When `new`
    is true the fragment is rendered and stored without a lookup."""
    bits = token.split_contents()
    new = None
    if bits[-1].startswith("new="):
        new = parser.compile_filter(bits.pop()[len("new=") :])
    if len(bits) < 3:
        raise template.TemplateSyntaxError("cached_fragment needs a timeout and key parts")
    nodelist = parser.parse(("endcached_fragment",))
    parser.delete_first_token()
    return _CachedFragmentNode(
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(b) for b in bits[2:]],
        new,
    )


@register.simple_tag(takes_context=True)
def same_view_for_line(context, other, params=None) -> str:
    """The screen being shown (same view, same kind), for line `other`, with `params`."""
    match = context["request"].resolver_match
    url = reverse(match.view_name, kwargs={**match.kwargs, "line_id": other.pk})
    return url + query(context, params or {})
