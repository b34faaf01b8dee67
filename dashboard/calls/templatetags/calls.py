"""Formatting helpers for call rows: durations, phone numbers, friendly times."""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

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
    if not number or not number.startswith(("+", "00")):
        return number
    try:
        parsed = phonenumbers.parse("+" + number[2:] if number.startswith("00") else number, None)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def friendly_time(value: datetime | None) -> str:
    """'Today 14:03', 'Yesterday 9:41', 'Mon 9:41' within a week, '12 Nov 14:03', '12 Nov 2025'."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    day = local.date()
    clock = f"{local.hour}:{local.minute:02d}"
    if day == today:
        return _("Today %(time)s") % {"time": clock}
    if day == today - timedelta(days=1):
        return _("Yesterday %(time)s") % {"time": clock}
    if today - timedelta(days=6) <= day < today:
        return f"{date_format(local, 'D')} {clock}"
    if day.year == today.year:
        return f"{date_format(local, 'j M')} {clock}"
    return date_format(local, "j M Y")


@register.filter
def exact_time(value: datetime | None) -> str:
    """The full timestamp with its zone, for the tooltip: '2026-11-20 14:03:11 CET'."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


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
    return _("%(n)d days") % {"n": seconds // 86400}
