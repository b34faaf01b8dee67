"""Missed calls by the viewer's exact local days (dashboard/calls/exact.py).

The provider's missed endpoint filters by calendar days in its own zone (UTC here, the
demo upstream's default). A viewer in Asia/Tokyo asking for one day must get that Tokyo
day: the early-morning calls (the evening before in UTC) included, the next Tokyo
morning's calls (still the same UTC day) left out, on every screen that lists them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from dashboard.calls.filters import CallFilter
from dashboard.calls.timeline import Cursor, fetch_timeline
from dashboard.reports.overview import DateRange
from dashboard.reports.service import build_overview
from dashboard.smsmobileapi.client import provider_days
from dashboard.smsmobileapi.demo.data import visible_calls
from dashboard.smsmobileapi.records import CallKind
from tests.conftest import DEMO_NOW, SUPPORT_KEY

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 11, 19)  # a Tokyo day with calls at 00:48, 00:49 and 04:11 local


@pytest.fixture
def tokyo(owner):
    from dashboard.accounts.models import Profile

    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")


def expected(first: date, last: date) -> list[datetime]:
    """The demo line's missed calls within [first, last] in Tokyo, newest first."""
    lo = datetime(first.year, first.month, first.day, tzinfo=TOKYO)
    hi = datetime(last.year, last.month, last.day, tzinfo=TOKYO) + timedelta(days=1)
    return [c.at for c in visible_calls(SUPPORT_KEY, "missed", DEMO_NOW) if lo <= c.at < hi]


def shown_times(html: str) -> list[datetime]:
    """The call time of each row (its first `<time>`; the follow-up cell may hold others)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)
    return [datetime.fromisoformat(re.search(r'<time[^>]* datetime="([^"]+)"', r)[1]) for r in rows]


def missed_url(line, query: str) -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}) + query


@pytest.mark.parametrize(
    ("viewer", "provider", "days"),
    [
        ("Asia/Tokyo", "UTC", (date(2026, 11, 18), date(2026, 11, 19))),
        ("UTC", "UTC", (date(2026, 11, 19), date(2026, 11, 19))),
        ("America/New_York", "UTC", (date(2026, 11, 19), date(2026, 11, 20))),
        ("UTC", "Europe/Brussels", (date(2026, 11, 19), date(2026, 11, 20))),
    ],
)
def test_the_provider_is_asked_for_the_days_of_its_zone_that_cover_the_viewers(
    viewer, provider, days
):
    assert provider_days(DAY, DAY, viewer, provider) == days


def test_a_tokyo_day_shows_its_early_morning_and_not_the_next_morning(
    owner_client, line, tokyo, demo_upstream
):
    day = DAY.isoformat()
    html = owner_client.get(missed_url(line, f"?from={day}&to={day}")).content.decode()
    times = shown_times(html)
    assert times == expected(DAY, DAY)
    local = [t.astimezone(TOKYO) for t in times]
    assert datetime(2026, 11, 19, 4, 11, 4, tzinfo=TOKYO) in local  # before 09:00 Tokyo
    assert all(t.date() == DAY for t in local)
    # What the old request (the UTC day 2026-11-19) returned instead: Tokyo's next morning.
    next_morning = [
        c.at
        for c in visible_calls(SUPPORT_KEY, "missed", DEMO_NOW)
        if c.at.date() == DAY and c.at.astimezone(TOKYO).date() > DAY
    ]
    assert next_morning and not set(next_morning) & set(times)
    missed = [p for path, p in demo_upstream.sent() if path == "/call/missed/list/"]
    # The two UTC days that cover the Tokyo day, read once: the page came out of the scan
    # for the head (the calls after the Tokyo day's end), no second request.
    assert missed == [
        {"offset": "0", "limit": "100", "date_start": "2026-11-18", "date_end": "2026-11-19"}
    ]


def test_walking_the_pages_gives_every_call_of_the_days_once(owner_client, line, tokyo):
    first, last = date(2026, 11, 1), DAY
    want = expected(first, last)
    assert len(want) > 3 * 25  # several pages, so page boundaries are exercised
    seen: list[datetime] = []
    for page in range(1, 20):
        query = f"?from={first}&to={last}&per_page=25&page={page}"
        html = owner_client.get(missed_url(line, query)).content.decode()
        seen += shown_times(html)
        if 'rel="next"' not in html:
            break
    assert seen == want


def test_the_timeline_holds_the_same_missed_calls(line):
    first, last = date(2026, 11, 10), DAY
    call_filter = CallFilter(date_from=first, date_to=last, per_page=25)
    cursor, missed = Cursor(), []
    for _page in range(50):
        page = fetch_timeline(line, call_filter, "Asia/Tokyo", cursor=cursor)
        missed += [c.started_at for c in page.calls if c.kind is CallKind.MISSED]
        if not page.has_next:
            break
        cursor = page.next
    assert missed == expected(first, last)


def test_the_missed_export_holds_exactly_the_tokyo_day(owner_client, line, tokyo):
    day = DAY.isoformat()
    url = reverse("line-export", kwargs={"line_id": line.pk, "kind": "missed"})
    response = owner_client.get(url + f"?from={day}&to={day}")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline="")))[1:]
    times = [datetime.strptime(r[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=TOKYO) for r in rows]
    assert times == expected(DAY, DAY)


def test_the_overview_counts_the_missed_calls_of_the_tokyo_days(line, demo_upstream):
    overview = build_overview(line, DateRange(DAY, DAY, "Asia/Tokyo"))
    assert overview.current.totals[CallKind.MISSED] == len(expected(DAY, DAY))
    missed = [p for path, p in demo_upstream.sent() if path == "/call/missed/list/"]
    # No day more on each side than the covering UTC days.
    assert {(p["date_start"], p["date_end"]) for p in missed} == {
        ("2026-11-18", "2026-11-19"),
        ("2026-11-17", "2026-11-18"),  # the previous period, for the trend
    }
