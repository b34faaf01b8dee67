"""The one way the dashboard writes times, days, date ranges and percentages, one format
per purpose, in the active language (English and Japanese formats are in the catalogue):

- time of day: `clock` ("9:41", "18:30"), e.g. a digest's hour or quiet hours
- table time: `table_time` ("Today 14:03", "Mon 9:41", "12 Nov 14:03", "12 Nov 2025")
- day: `day` ("Wed 4 Nov", "Tue 4 Nov 2025")
- range of days: `day_range` ("28 Oct – 3 Nov", "28 Dec 2025 – 3 Jan 2026")
- full timestamp: `full_timestamp` ("3 Dec 2026, 10:15:03"), for audit trails and tooltips
- percentage: `percent` ("28.3%"), and a change of rate in points: `points` ("+2.5")

The year is written only when it is not the current one (the full timestamp always has
it). Templates reach these through the `formats` template library; tests/test_formats.py
fails on any other date format in a template. Machine formats (ISO 8601 in `datetime`
attributes, date inputs' values, CSV cells) are not for reading and stay as they are.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta

from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def clock(local: datetime | time) -> str:
    """'9:41', '14:03': the time of day, without seconds (a moment's, or a `time`)."""
    return f"{local.hour}:{local.minute:02d}"


def table_time(local: datetime, today: date) -> str:
    """A call's time in a table, as short as it can be read: 'Today 14:03', 'Yesterday
    9:41', 'Mon 9:41' within a week, '12 Nov 14:03', then '12 Nov 2025'."""
    day_ = local.date()
    hour = clock(local)
    if day_ == today:
        return _("Today %(time)s") % {"time": hour}
    if day_ == today - timedelta(days=1):
        return _("Yesterday %(time)s") % {"time": hour}
    if today - timedelta(days=6) <= day_ < today:
        # Translators: a weekday of the past week ("Mon") and a clock time ("9:41").
        return pgettext("friendly time", "%(weekday)s %(time)s") % {
            "weekday": _format(day_, "D"),
            "time": hour,
        }
    if day_.year == today.year:
        # Translators: a date and a clock time, "12 Nov 14:03".
        return pgettext("friendly time", "%(date)s %(time)s") % {
            "date": _format(day_, _day_of_this_year()),
            "time": hour,
        }
    return _format(day_, _day_of_another_year())


def day(value: date | None, today: date | None = None) -> str:
    """A day with its weekday: 'Wed 4 Nov', 'Tue 4 Nov 2025' (another year)."""
    if value is None:
        return ""
    today = today or timezone.localdate()
    if value.year == today.year:
        # Translators: a Django date format for a day of this year with its weekday, "Wed 4 Nov".
        return _format(value, pgettext("date format, weekday and day of this year", "D j M"))
    # Translators: a Django date format for a day of another year with its weekday.
    return _format(value, pgettext("date format, weekday and day of another year", "D j M Y"))


def day_range(start: date | None, end: date | None, today: date | None = None) -> str:
    """Days from `start` to `end`: '28 Oct – 3 Nov', '28 Dec 2025 – 3 Jan 2026', '4 Nov'
    for one day; 'from 4 Nov' or 'until 3 Nov' when one end is open; '' for neither."""
    today = today or timezone.localdate()
    if start and end and start == end:
        return _short_day(start, today)
    if start and end:
        # Both ends carry the year when either is in another year: "28 Dec 2025 – 3 Jan".
        other_year = start.year != today.year or end.year != today.year
        pattern = _day_of_another_year() if other_year else _day_of_this_year()
        # Translators: a range of days, "28 Oct – 3 Nov".
        return pgettext("range of days", "%(start)s – %(end)s") % {
            "start": _format(start, pattern),
            "end": _format(end, pattern),
        }
    if start:
        return pgettext("range of days", "from %(start)s") % {"start": _short_day(start, today)}
    if end:
        return pgettext("range of days", "until %(end)s") % {"end": _short_day(end, today)}
    return ""


def full_timestamp(value: datetime | None, zone=None) -> str:
    """A moment in full, in `zone` (default: the active one): '3 Dec 2026, 10:15:03'."""
    if value is None:
        return ""
    return _format(timezone.localtime(value, zone), full_timestamp_format())


def full_timestamp_format() -> str:
    """The full timestamp's Django date format (app.js writes tooltips with it too)."""
    # Translators: a Django date format for a moment in full, "3 Dec 2026, 10:15:03".
    return pgettext("date format, full timestamp", "j M Y, H:i:s")


def month_abbreviations() -> list[str]:
    """'Jan' … 'Dec' in the active language (the `M` of the date formats), for app.js."""
    return [_format(date(2000, month, 1), "M") for month in range(1, 13)]


def percent(rate: float | None) -> str:
    """0.1234 → '12.3%' in the active language's number format; None → an em dash."""
    if rate is None:
        return "—"
    # number_format cuts extra decimals off; round first so 29.79 shows as 29.8.
    value = number_format(round(rate * 100, 1), 1)
    # Translators: a percentage, "12.3%" (no space before the sign in English).
    return pgettext("percentage", "%(value)s%%") % {"value": value}


def points(change: float | None) -> str:
    """A change of rate in percentage points, always signed: '+2.5', '−1.0'."""
    if change is None:
        return ""
    value = number_format(round(abs(change) * 100, 1), 1)
    return f"+{value}" if change > 0 else (f"−{value}" if change < 0 else value)


def _short_day(value: date, today: date) -> str:
    pattern = _day_of_this_year() if value.year == today.year else _day_of_another_year()
    return _format(value, pattern)


def _day_of_this_year() -> str:
    # Translators: a Django date format (the `date` filter's letters) for a day of the
    # current year: "12 Nov" in English.
    return pgettext("date format, day of this year", "j M")


def _day_of_another_year() -> str:
    # Translators: a Django date format for a day of another year: "12 Nov 2025".
    return pgettext("date format, day of another year", "j M Y")


def _format(value: date, pattern: str) -> str:
    return _format_in(value, pattern, translation.get_language())


# Formatting a date is most of a table time's cost, and a table shows a few days many
# times over. The language is part of the key: month and weekday names are translated.
@functools.lru_cache(maxsize=4096)
def _format_in(value: date, pattern: str, language: str | None) -> str:
    return date_format(value, pattern)
