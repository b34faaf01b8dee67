"""Links to caller pages: `{% caller_url line call.number %}`."""

from __future__ import annotations

import functools

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

from dashboard.calls.phone import number_key
from dashboard.lines.models import Line

register = template.Library()


@register.simple_tag
def caller_url(line: Line, number: str) -> str:
    """The caller page of `number` on `line`; "" for hidden numbers (no page to show)."""
    key = number_key(number, line.default_region)
    if not key:
        return ""
    return _caller_path(line.pk, key, get_script_prefix(), get_urlconf())


# A table links every row, and callers recur: `reverse` costs more than the rest of a
# row's number cell. The mount point and URLconf `reverse` reads are part of the key.
@functools.lru_cache(maxsize=8192)
def _caller_path(line_id: int, key: str, script_prefix: str, urlconf: str | None) -> str:
    return reverse("line-caller", kwargs={"line_id": line_id, "number": key}, urlconf=urlconf)
