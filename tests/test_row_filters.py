"""The small filters and tags the call rows use instead of costlier template tags: they
must give exactly what the tags they replace gave."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.template import Context, Template
from django.template.defaultfilters import truncatechars
from django.test import RequestFactory
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone, translation

from dashboard.calls.templatetags.callers import caller_url
from dashboard.calls.templatetags.calls import clip, searching
from dashboard.lines.models import Line


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "Dupont", "from": "2026-11-01", "page": "3"},
        {"sort": "duration", "dir": "asc", "per_page": "100", "page": "2"},
        {"from": "2026-11-01", "to": "2026-11-20", "q": "+32 470 & co"},
    ],
)
def test_searching_gives_the_query_tags_link(params):
    context = {"params": params, "number": "+32 470/12 34 56", "request": RequestFactory().get("/")}
    tag = "{% query params q=number page=None cursor=None before=None scan=None %}"
    as_tag = Template("{% load calls %}" + tag).render(Context(context))
    as_filter = Template("{% load calls %}{{ params|searching:number }}").render(Context(context))
    assert as_filter == as_tag  # both as the page gets them (escaped: &amp;)
    assert searching(params, "0470").startswith("?")
    assert not re.search(r"(^\?|;)page=", as_filter)  # back to the first page


@pytest.mark.parametrize("number", ["", None, 470123456, "+32 470/12 34 56"])
def test_searching_encodes_any_value_as_urlencode_does(number):
    # What the filter gave before it encoded the filter once per table: never an error.
    params = {"from": "2026-11-01", "odd": ["a", "b"], "n": 3, "page": "2"}
    expected = "?" + urlencode({"from": "2026-11-01", "odd": ["a", "b"], "n": 3, "q": number})
    assert searching(params, number) == expected


@pytest.mark.parametrize("length", [3, 10, 80])
@pytest.mark.parametrize("value", ["", "Marie", "Dupont-Lefèvre et Fils, Bruxelles", "x" * 200])
def test_clip_cuts_like_truncatechars(value, length):
    assert clip(value, length) == truncatechars(value, length)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Brussels", "Asia/Tokyo", "America/St_Johns"])
@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC),
        datetime(2026, 7, 1, 23, 30, 0, 123000, tzinfo=UTC),  # summer time, milliseconds
        datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # the hour Brussels changes its clocks
    ],
)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_timestamp_gives_what_the_three_filters_gave(monkeypatch, when, zone, language):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    three_filters = (
        '<time datetime="{{ at|date:\'c\' }}" title="{{ at|full_time }} ({{ zone }})">'
        "{{ at|friendly_time }}</time>"
    )
    with timezone.override(zone), translation.override(language):
        expected = Template("{% load calls formats %}" + three_filters).render(
            Context({"at": when, "zone": zone})
        )
        tag = Template("{% load calls %}{% timestamp at %}").render(Context({"at": when}))
    assert tag == expected


def test_timestamp_takes_a_class_and_draws_nothing_for_no_time():
    when = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
    with timezone.override("UTC"):
        html = Template('{% load calls %}{% timestamp at "muted" %}|{% timestamp none %}').render(
            Context({"at": when, "none": None})
        )
    assert html.startswith('<time class="muted" datetime="2026-11-20T14:03:00+00:00" ')
    assert html.endswith("</time>|")


def test_memoised_timestamps_follow_the_zone_the_language_and_the_day(monkeypatch):
    when = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    draw = Template("{% load calls %}{% timestamp at %}").render
    now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    seen = []
    for zone, language in [("UTC", "en"), ("Asia/Tokyo", "en"), ("UTC", "ja"), ("UTC", "en")]:
        with timezone.override(zone), translation.override(language):
            seen.append(draw(Context({"at": when})))
    # A day later, the same moment in the same zone and language reads differently.
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with timezone.override("UTC"), translation.override("en"):
        seen.append(draw(Context({"at": when})))

    texts = [re.search(r">([^<]*)</time>", html)[1] for html in seen]
    assert texts == ["Yesterday 23:30", "Today 8:30", "昨日 23:30", "Yesterday 23:30", "Fri 23:30"]
    assert 'datetime="2026-11-21T08:30:00+09:00"' in seen[1] and "(Asia/Tokyo)" in seen[1]


def test_friendly_days_follow_the_language_after_a_switch(monkeypatch):
    # Day names are memoised: the same day must still read in each viewer's language.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    weekday, date = (
        datetime(2026, 11, 17, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
    )
    render = Template("{% load calls %}{{ weekday|friendly_time }} {{ date|friendly_time }}").render
    with timezone.override("UTC"):
        seen = []
        for language in ("en", "ja", "en", "ja"):
            with translation.override(language):
                seen.append(render(Context({"weekday": weekday, "date": date})))
    assert seen == ["Tue 10:00 3 Nov 10:00", "(火) 10:00 11月3日 10:00"] * 2


@pytest.mark.django_db
def test_caller_links_follow_the_mount_point(line):
    # Caller links are memoised: a dashboard mounted under /calls/ must not get the links
    # of one served from /, nor the other way round.
    plain = caller_url(line, "0470 12 34 56")
    assert plain == reverse("line-caller", kwargs={"line_id": line.pk, "number": "+32470123456"})
    set_script_prefix("/calls/")
    try:
        mounted = caller_url(line, "0470 12 34 56")
    finally:
        clear_script_prefix()
    assert mounted == "/calls" + plain
    assert caller_url(line, "0470 12 34 56") == plain
    assert caller_url(line, "") == ""


@pytest.mark.django_db
def test_caller_links_are_per_line(owner, line):
    other = Line(owner=owner, label="Sales", default_region="BE")
    other.set_api_key("demo-sales")
    other.save()
    assert caller_url(line, "0470123456") != caller_url(other, "0470123456")
    assert f"/{other.pk}/" in caller_url(other, "0470123456")
