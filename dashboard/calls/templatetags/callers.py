"""Links to caller pages: `{% caller_url line call.number %}`."""

from __future__ import annotations

from django import template
from django.urls import reverse

from dashboard.calls.phone import number_key
from dashboard.lines.models import Line

register = template.Library()


@register.simple_tag
def caller_url(line: Line, number: str) -> str:
    """The caller page of `number` on `line`; "" for hidden numbers (no page to show)."""
    key = number_key(number, line.default_region)
    if not key:
        return ""
    return reverse("line-caller", kwargs={"line_id": line.pk, "number": key})
