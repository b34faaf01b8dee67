"""One way to write time and numbers: each purpose (table time, day, range, full
timestamp, percentage) has one format, in English and Japanese, with the year only when
it is not this one; and no template writes a date its own way."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.utils import timezone, translation

from dashboard import formats

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TODAY = date(2026, 11, 20)
# Formats that are for machines, not people: ISO 8601 in `datetime` attributes and date
# inputs, Unix seconds in a link.
MACHINE_FORMATS = {"c", "Y-m-d", "U"}


def both(call):
    with translation.override("en"):
        english = call()
    with translation.override("ja"):
        japanese = call()
    return english, japanese


@pytest.mark.parametrize(
    ("value", "english", "japanese"),
    [
        (date(2026, 11, 4), "Wed 4 Nov", "11月4日(水)"),
        (date(2025, 11, 4), "Tue 4 Nov 2025", "2025年11月4日(火)"),
    ],
)
def test_a_day_has_its_weekday_and_the_year_only_when_it_is_another(value, english, japanese):
    assert both(lambda: formats.day(value, TODAY)) == (english, japanese)


@pytest.mark.parametrize(
    ("start", "end", "english", "japanese"),
    [
        (date(2026, 10, 28), date(2026, 11, 3), "28 Oct – 3 Nov", "10月28日～11月3日"),
        (
            date(2025, 12, 28),
            date(2026, 1, 3),
            "28 Dec 2025 – 3 Jan 2026",
            "2025年12月28日～2026年1月3日",
        ),
        (date(2026, 11, 4), date(2026, 11, 4), "4 Nov", "11月4日"),
        (date(2026, 11, 4), None, "from 4 Nov", "11月4日から"),
        (None, date(2025, 11, 4), "until 4 Nov 2025", "2025年11月4日まで"),
        (None, None, "", ""),
    ],
)
def test_a_range_of_days_reads_as_one_phrase(start, end, english, japanese):
    assert both(lambda: formats.day_range(start, end, TODAY)) == (english, japanese)


def test_a_full_timestamp_is_in_the_viewers_zone_with_its_year(settings):
    moment = datetime(2026, 12, 3, 1, 15, 3, tzinfo=UTC)
    with timezone.override("Asia/Tokyo"):
        assert both(lambda: formats.full_timestamp(moment)) == (
            "3 Dec 2026, 10:15:03",
            "2026年12月3日 10:15:03",
        )


def test_percentages_have_no_space_before_the_sign_in_either_language():
    assert both(lambda: formats.percent(0.283)) == ("28.3%", "28.3%")
    assert both(lambda: formats.percent(None)) == ("—", "—")


def test_table_times_name_the_year_only_for_another_year():
    def at(day, hour=14):
        return datetime(day.year, day.month, day.day, hour, 3)

    assert both(lambda: formats.table_time(at(date(2026, 11, 12)), TODAY)) == (
        "12 Nov 14:03",
        "11月12日 14:03",
    )
    assert both(lambda: formats.table_time(at(date(2025, 11, 12)), TODAY)) == (
        "12 Nov 2025",
        "2025年11月12日",
    )


def test_no_template_writes_a_date_its_own_way():
    """Dates for people go through the `formats` library ({% load formats %}) or the
    `{% timestamp %}` tag; a `|date:`/`|time:` format in a template is for machines only."""
    stray = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\|\s*(date|time)\b(?::\s*(['\"])(.*?)\2)?", text):
            kind, fmt = match.group(1), match.group(3)
            if kind == "time" or fmt not in MACHINE_FORMATS:
                line = text.count("\n", 0, match.start()) + 1
                stray.append(f"{path.relative_to(TEMPLATES)}:{line}: {match.group(0)}")
    assert not stray, "date formats outside dashboard/formats.py:\n" + "\n".join(stray)


def test_pages_show_the_shared_formats(owner_client, owner, line):
    from django.urls import reverse

    start, end = date(timezone.localdate().year, 1, 2), date(timezone.localdate().year, 1, 8)
    page = owner_client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
        + f"?from={start}&to={end}&q=nobody-has-this-name"
    ).content.decode()
    assert "Dates: 2 Jan – 8 Jan." in page  # not "2026-01-02 to 2026-01-08"
    # The pickers' label, also sent out of band with every htmx answer.
    assert '<span id="summary-range" class="summary-range"> · 2 Jan – 8 Jan</span>' in page
