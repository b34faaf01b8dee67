"""The overview: aggregates on hand-computed data, the SVG chart, bounded upstream reading,
the aggregate cache, and the page (lazy shell, htmx fragment, no-JavaScript page)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from dashboard.reports.overview import (
    DateRange,
    heat_level,
    resolve_range,
    summarise,
)
from dashboard.reports.reading import CallReader
from dashboard.reports.svg import daily_chart, nice_ticks
from dashboard.smsmobileapi.client import day_bounds_ms
from dashboard.smsmobileapi.records import Call, CallKind, CallQuery
from tests.conftest import make_line

BRUSSELS = "Europe/Brussels"
MISSED, INCOMING, OUTGOING = CallKind.MISSED, CallKind.INCOMING, CallKind.OUTGOING


def call(kind, utc: str, number="+32470000001", name="", duration=None) -> Call:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    return Call(kind=kind, number=number, name=name, started_at=at, duration=duration)


# Fixed data around the autumn DST change in Brussels (Sunday 2026-10-25, 03:00 CEST ->
# 02:00 CET): the period is Sat 24, Sun 25 (25 hours long) and Mon 26, which has no calls.
DST_CALLS = [
    call(MISSED, "2026-10-23T21:59:59", number="+32400000009"),  # Fri 23:59:59 CEST: before
    call(INCOMING, "2026-10-24T10:00:00", "+32470000001", "Alice", 60),  # Sat 12:00 CEST
    call(OUTGOING, "2026-10-24T11:00:00", "+32470000002", "", 0),  # never picked up
    call(OUTGOING, "2026-10-24T12:00:00", "+32470000002", "", 100),
    call(MISSED, "2026-10-24T23:30:00", "+32470000001", ""),  # Sun 01:30 CEST
    call(MISSED, "2026-10-25T00:30:00", "+32470000001", "Alice D."),  # Sun 02:30 CEST
    call(MISSED, "2026-10-25T01:30:00", "+32470000003", "Bob"),  # Sun 02:30 CET (again)
    call(INCOMING, "2026-10-25T09:00:00", "+32470000003", "Bobby", 180),  # Sun 10:00 CET
    call(INCOMING, "2026-10-25T12:00:00", "", "", 30),  # hidden number
    call(MISSED, "2026-10-25T22:30:00", "+32470000004", "Chloé"),  # Sun 23:30 CET, not Monday
    call(MISSED, "2026-10-26T23:00:00", number="+32400000009"),  # Tue 00:00 CET: after
]
DST_PERIOD = DateRange(date(2026, 10, 24), date(2026, 10, 26), BRUSSELS)


def test_a_period_spans_local_midnights_including_a_25_hour_day():
    start, after = DST_PERIOD.bounds()
    assert start == datetime(2026, 10, 23, 22, tzinfo=UTC)
    assert after == datetime(2026, 10, 26, 23, tzinfo=UTC)
    assert (after - start).total_seconds() == 73 * 3600


def test_calls_per_day_by_kind_in_the_viewers_zone_including_an_empty_day():
    stats = summarise(DST_CALLS, DST_PERIOD)
    assert [(d.day, d.missed, d.incoming, d.outgoing) for d in stats.days] == [
        (date(2026, 10, 24), 0, 1, 2),
        (date(2026, 10, 25), 4, 2, 0),
        (date(2026, 10, 26), 0, 0, 0),
    ]
    assert stats.totals == {MISSED: 4, INCOMING: 3, OUTGOING: 2}
    assert stats.total == 9
    assert stats.busiest_day.day == date(2026, 10, 25)


def test_missed_rate_counts_missed_among_calls_that_rang():
    assert summarise(DST_CALLS, DST_PERIOD).missed_rate == pytest.approx(4 / 7)
    assert summarise([], DST_PERIOD).missed_rate is None


def test_durations_are_median_and_mean_of_answered_calls_only():
    stats = summarise(DST_CALLS, DST_PERIOD)
    assert (stats.incoming_duration.count, stats.incoming_duration.median) == (3, 60)
    assert stats.incoming_duration.mean == pytest.approx(90)  # (60 + 180 + 30) / 3
    # The 0-second outgoing call was never picked up: only the 100 s call counts.
    assert stats.outgoing_duration == type(stats.outgoing_duration)(1, 100, 100.0)
    assert summarise([], DST_PERIOD).incoming_duration.median is None


def test_heat_map_uses_local_weekday_and_hour_and_the_repeated_dst_hour_counts_twice():
    stats = summarise(DST_CALLS, DST_PERIOD)
    sunday = stats.heat[6]
    assert (sunday[1], sunday[2], sunday[23]) == (1, 2, 1)
    assert sum(map(sum, stats.heat)) == 4
    assert stats.heat_max == 2


def test_top_callers_group_by_number_with_the_latest_name_and_leave_out_hidden_numbers():
    callers = summarise(DST_CALLS, DST_PERIOD).top_callers
    assert [(c.number, c.name, c.missed, c.incoming, c.total) for c in callers] == [
        ("+32470000001", "Alice D.", 2, 1, 3),
        ("+32470000003", "Bobby", 1, 1, 2),
        ("+32470000004", "Chloé", 1, 0, 1),
    ]
    assert all(c.number for c in callers)


def test_previous_period_has_the_same_length_and_ends_the_day_before():
    period = DateRange(date(2026, 11, 1), date(2026, 11, 30), "UTC")
    assert period.previous() == DateRange(date(2026, 10, 2), date(2026, 10, 31), "UTC")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((None, None), (date(2026, 10, 28), date(2026, 11, 26), False)),
        ((date(2026, 11, 1), None), (date(2026, 11, 1), date(2026, 11, 26), False)),
        ((None, date(2026, 11, 10)), (date(2026, 10, 12), date(2026, 11, 10), False)),
        ((date(2024, 1, 1), date(2026, 11, 26)), (date(2025, 11, 26), date(2026, 11, 26), True)),
    ],
)
def test_the_range_defaults_to_the_last_30_days_and_is_bounded(given, expected):
    assert resolve_range(*given, date(2026, 11, 26), max_days=366) == expected


def test_heat_levels_are_relative_to_the_busiest_cell():
    assert [heat_level(n, 8) for n in (0, 1, 2, 3, 4, 5, 8)] == [0, 1, 1, 2, 2, 3, 4]
    assert heat_level(3, 0) == 0


# The SVG chart ------------------------------------------------------------------------


def test_axis_ticks_are_round_numbers_covering_the_maximum():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(37) == [0, 10, 20, 30, 40]
    assert nice_ticks(9) == [0, 5, 10]


def test_the_chart_is_an_accessible_image_with_one_bar_segment_per_nonzero_count():
    days = summarise(DST_CALLS, DST_PERIOD).days
    svg = str(daily_chart(days, chart_id="c", title="Calls <per> day", desc="Desc & more"))
    assert re.match(r'<svg [^>]*role="img" aria-labelledby="c-title c-desc"', svg)
    assert '<title id="c-title">Calls &lt;per&gt; day</title>' in svg
    assert '<desc id="c-desc">Desc &amp; more</desc>' in svg
    assert svg.count('class="bar bar-missed"') == 1
    assert svg.count('class="bar bar-incoming"') == 2
    assert svg.count('class="bar bar-outgoing"') == 1
    assert "<title>25 Oct: 4 missed</title>" in svg
    # Colours come from the stylesheet (CSP and dark mode): no style or fill attributes.
    assert "style=" not in svg and "fill=" not in svg


# Bounded reading ----------------------------------------------------------------------


def test_reading_walks_full_pages_and_stops_one_row_past_the_cap(line, demo_upstream):
    reader = CallReader(line, INCOMING, CallQuery(), max_rows=250)
    calls = list(reader)
    assert len(calls) == 250 and reader.truncated and reader.pages == 2
    sent = [(r.params["offset"], r.params["limit"]) for r in demo_upstream.recorded()]
    assert sent == [("0", "200"), ("200", "51")]


def test_reading_stops_at_a_short_page_without_claiming_truncation(line, demo_upstream):
    day = date(2026, 11, 18)
    reader = CallReader(line, MISSED, CallQuery(date_from=day, date_to=day), max_rows=5000)
    calls = list(reader)
    assert 0 < len(calls) < 500 and not reader.truncated and reader.pages == 1
    assert demo_upstream.recorded()[0].params["limit"] == "500"


# The page -----------------------------------------------------------------------------

RANGE = "?from=2026-11-14&to=2026-11-20"


def overview_url(line, query=RANGE) -> str:
    return reverse("line-overview", kwargs={"line_id": line.pk}) + query


def content_url(line, query=RANGE) -> str:
    return reverse("line-overview-content", kwargs={"line_id": line.pk}) + query


def test_the_full_page_answers_at_once_and_loads_the_overview_lazily(
    owner_client, line, demo_upstream
):
    response = owner_client.get(overview_url(line))
    html = response.content.decode()
    assert response.status_code == 200 and demo_upstream.recorded() == []
    lazy = re.search(r'<div id="overview-content"[^>]*>', html).group(0)
    assert f'hx-get="{content_url(line)}"'.replace("&", "&amp;") in lazy
    assert 'hx-trigger="load"' in lazy
    assert 'role="status"' in html and "computing the overview" in html
    # Without JavaScript, a plain link opens the computed page.
    noscript_href = content_url(line).replace("&", "&amp;")
    assert re.search(r"<noscript><p><a [^>]*href=\"" + re.escape(noscript_href), html)
    assert 'aria-current="page">Overview</a>' in html


def test_htmx_gets_the_fragment_with_summary_chart_heat_map_and_callers(
    owner_client, line, demo_upstream
):
    html = owner_client.get(content_url(line), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="overview-content"')
    assert 'role="img"' in html and 'class="heatmap"' in html
    assert "Show as a table" in html and "Top callers" in html
    assert re.search(r"\d+ \w+ – \d+ \w+ \(7 days, times in UTC\): \d+ calls", html)


def test_without_htmx_the_content_url_is_a_whole_page(owner_client, line):
    response = owner_client.get(content_url(line))
    html = response.content.decode()
    assert "<html" in html and 'role="img"' in html and 'hx-trigger="load"' not in html
    assert "HX-Request" in response["Vary"]


def test_the_overview_asks_the_provider_for_full_pages_of_the_range_and_previous_period(
    owner_client, line, demo_upstream
):
    owner_client.get(content_url(line), HTTP_HX_REQUEST="true")
    start, end = day_bounds_ms(date(2026, 11, 14), date(2026, 11, 20), "UTC")
    prev_start, prev_end = day_bounds_ms(date(2026, 11, 7), date(2026, 11, 13), "UTC")
    ms = {"sort_by": "call_date_ms", "sort_dir": "desc"}
    assert demo_upstream.sent() == [
        # Missed calls by calendar days: the viewer's and the provider's zone are both UTC,
        # so exactly the period's days (no day more on either side, no trimming).
        (
            "/call/missed/list/",
            {"offset": "0", "limit": "500", "date_start": "2026-11-14", "date_end": "2026-11-20"},
        ),
        (
            "/call/incoming/list/",
            {"offset": "0", "limit": "200", "date_from_ms": str(start), "date_to_ms": str(end)}
            | ms,
        ),
        (
            "/call/outgoing/list/",
            {"offset": "0", "limit": "200", "date_from_ms": str(start), "date_to_ms": str(end)}
            | ms,
        ),
        (
            "/call/missed/list/",
            {"offset": "0", "limit": "500", "date_start": "2026-11-07", "date_end": "2026-11-13"},
        ),
        (
            "/call/incoming/list/",
            {
                "offset": "0",
                "limit": "200",
                "date_from_ms": str(prev_start),
                "date_to_ms": str(prev_end),
            }
            | ms,
        ),
    ]


def test_numbers_on_the_page_match_the_aggregate_of_the_same_calls(owner_client, line):
    calls = []
    for kind in CallKind:
        calls += CallReader(
            line, kind, CallQuery(date_from=date(2026, 11, 13), date_to=date(2026, 11, 21)), 5000
        )
    stats = summarise(calls, DateRange(date(2026, 11, 14), date(2026, 11, 20), "UTC"))
    html = owner_client.get(content_url(line), HTTP_HX_REQUEST="true").content.decode()
    t = stats.totals
    assert (
        f"{stats.total} calls — {t[MISSED]} missed, {t[INCOMING]} answered incoming, {t[OUTGOING]} outgoing"
        in html
    )
    rate = f"{stats.missed_rate * 100:.1f}%"
    assert f'<p class="kpi-value num">{rate}</p>' in html


def test_a_computed_overview_is_reused_until_refresh(owner_client, line, demo_upstream):
    owner_client.get(content_url(line), HTTP_HX_REQUEST="true")
    first = len(demo_upstream.recorded())
    owner_client.get(content_url(line), HTTP_HX_REQUEST="true")
    assert len(demo_upstream.recorded()) == first
    owner_client.get(content_url(line, RANGE + "&refresh=1"), HTTP_HX_REQUEST="true")
    assert len(demo_upstream.recorded()) > first


def test_the_cache_key_is_per_zone_and_never_holds_the_api_key(owner_client, owner, line):
    from dashboard.reports.service import overview_cache_key

    utc = overview_cache_key(line, DateRange(date(2026, 11, 1), date(2026, 11, 7), "UTC"), 10)
    tokyo = overview_cache_key(
        line, DateRange(date(2026, 11, 1), date(2026, 11, 7), "Asia/Tokyo"), 10
    )
    assert utc != tokyo and "demo-support" not in utc + tokyo


def test_the_cap_is_stated_on_the_page_and_bounds_every_request(
    owner_client, line, demo_upstream, settings
):
    settings.OVERVIEW_MAX_ROWS = 10
    html = owner_client.get(content_url(line), HTTP_HX_REQUEST="true").content.decode()
    assert {r.params["limit"] for r in demo_upstream.recorded()} == {"11"}
    assert "only the newest 10 calls of each kind were counted" in html
    assert re.search(r"\b10 missed, 10 answered incoming, 10 outgoing", html)


def test_the_daily_chart_covers_empty_days(owner_client, owner):
    empty = make_line(owner, "demo-empty")
    html = owner_client.get(content_url(empty), HTTP_HX_REQUEST="true").content.decode()
    assert "0 calls — 0 missed" in html and "Nobody called in this range." in html
    assert html.count('<tr class="muted">') == 7  # one table row per day, all empty
    assert "No calls rang on this line in this range." in html


def test_an_upstream_refusal_is_shown_per_kind_and_not_cached(owner_client, owner, demo_upstream):
    expired = make_line(owner, "demo-expired")
    html = owner_client.get(content_url(expired), HTTP_HX_REQUEST="true").content.decode()
    # One banner for the one problem (incoming, outgoing and the previous incoming all got
    # it), naming the kinds it hit; no figures drawn from the calls that were read.
    assert html.count('role="alert"') == 1
    assert html.count("subscription for this line has expired") == 1
    assert "(Incoming, Outgoing)" in html
    assert ">Try again</a>" not in html  # retrying does not renew a subscription
    assert "No figures for this range: the calls of Incoming, Outgoing could not be read" in html
    assert 'class="kpi' not in html and "daily-chart" not in html and "0 calls" not in html
    first = len(demo_upstream.recorded())
    # The incomplete overview is not cached; the provider's refusal of the key is
    # remembered for the cache TTL (every viewer would get it again), until a Refresh.
    again = owner_client.get(content_url(expired), HTTP_HX_REQUEST="true").content.decode()
    assert again.count('role="alert"') == 1
    assert len(demo_upstream.recorded()) == first
    owner_client.get(content_url(expired) + "&refresh=1", HTTP_HX_REQUEST="true")
    assert len(demo_upstream.recorded()) > first


def test_a_failing_provider_is_one_banner_and_no_figures(owner_client, owner, demo_upstream):
    failing = make_line(owner, "demo-failing")
    html = owner_client.get(content_url(failing), HTTP_HX_REQUEST="true").content.decode()
    # Five readings (three kinds, two previous) failed the same way: one banner.
    assert html.count('role="alert"') == 1
    assert html.count("SMSMobileAPI had an internal error. Try again in a minute.") == 1
    assert "(Missed, Incoming, Outgoing)" in html
    assert "0 calls" not in html and "Missed-call rate" not in html
    assert "the calls of Missed, Incoming, Outgoing could not be read" in html
    # The one action that helps, worded as on the tabs.
    assert re.search(r'<a class="button" href="[^"]*refresh=1"[^>]*>Try again</a>', html)


def test_bad_dates_fall_back_to_the_default_range_with_a_message(owner_client, line):
    response = owner_client.get(overview_url(line, "?from=yesterday&to=2026-13-45"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The “From” date was not understood, so it was left out." in html
    assert "The “To” date was not understood, so it was left out." in html
    assert "Enter a valid date." not in html


def test_a_range_longer_than_a_year_is_shortened_and_said(owner_client, line, demo_upstream):
    html = owner_client.get(overview_url(line, "?from=2020-01-01&to=2026-11-20")).content.decode()
    assert "An overview covers at most 366 days; it starts on 2025-11-20 instead." in html


def test_the_times_and_days_follow_the_viewers_zone(owner_client, owner, line, demo_upstream):
    from dashboard.accounts.models import Profile

    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    html = owner_client.get(content_url(line), HTTP_HX_REQUEST="true").content.decode()
    assert "times in Asia/Tokyo" in html
    start, _ = day_bounds_ms(date(2026, 11, 14), None, "Asia/Tokyo")
    incoming = [r for r in demo_upstream.recorded() if r.path == "/call/incoming/list/"]
    assert incoming[0].params["date_from_ms"] == str(start)


@pytest.mark.parametrize("name", ["line-overview", "line-overview-content"])
def test_only_users_who_may_see_the_line_get_its_overview(
    client, line, shared_user, stranger, name
):
    target = reverse(name, kwargs={"line_id": line.pk}) + RANGE
    assert client.get(target).status_code == 302  # anonymous: to the login page
    client.force_login(stranger)
    assert client.get(target).status_code == 404
    client.force_login(shared_user)
    assert client.get(target).status_code == 200


def test_the_table_page_links_to_the_overview_with_its_dates(owner_client, line):
    html = owner_client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
        + "?q=abc&from=2026-11-01&to=2026-11-07"
    ).content.decode()
    href = reverse("line-overview", kwargs={"line_id": line.pk}) + (
        "?from=2026-11-01&amp;to=2026-11-07"
    )
    assert f'<a href="{href}" class="tab tab-overview">' in html


def test_rates_and_changes_are_rounded_and_signed_for_reading():
    from dashboard.formats import percent, points

    assert [percent(28 / 94), percent(None), percent(0)] == ["29.8%", "—", "0.0%"]
    assert [points(0.0126), points(-0.01), points(0.0), points(None)] == ["+1.3", "−1.0", "0.0", ""]
