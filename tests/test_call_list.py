"""The call tables: what the user sees and what the provider is asked, for every filter."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import unquote_plus

import pytest
from django.core.cache import cache
from django.urls import reverse

from dashboard.calls.exact import SHARED_CHUNK
from dashboard.calls.filters import DEFAULT_PER_PAGE
from dashboard.smsmobileapi.records import CallKind
from tests.conftest import SUPPORT_KEY, make_line
from tests.fake_provider import T0, call, provider
from tests.servers import refused_port


def url(line, kind, query: str = "") -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind}) + query


def _later_window(request) -> bool:
    """The missed tab also reads the line's unfiltered newest incoming/outgoing calls to
    show "answered later" (dashboard/followup/later.py); tests/test_followup.py covers it."""
    unfiltered = set(request.params) == {"offset", "limit", "sort_by", "sort_dir", "apikey"}
    chunk = request.params.get("limit") == str(SHARED_CHUNK)
    return request.path != "/call/missed/list/" and unfiltered and chunk


def only_request(demo_upstream):
    recorded = demo_upstream.recorded()
    # An incoming or outgoing first page may be read from the shared chunk itself.
    requests = [r for r in recorded if not _later_window(r)] or recorded
    assert len(requests) == 1, requests
    params = dict(requests[0].params)
    params.pop("apikey")
    return requests[0].path, params


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


# Upstream parameters per kind and filter ------------------------------------------------


def test_missed_tab_sends_search_dates_and_one_extra_row(owner_client, line, demo_upstream):
    response = owner_client.get(
        url(line, "missed", "?q=Zo%C3%AB&from=2026-11-01&to=2026-11-07&per_page=25&page=3")
    )
    assert response.status_code == 200
    assert only_request(demo_upstream) == (
        "/call/missed/list/",
        {
            "offset": "50",
            "limit": "26",
            "search": "Zoë",
            "date_start": "2026-11-01",
            "date_end": "2026-11-07",
        },
    )


@pytest.mark.parametrize("kind", ["incoming", "outgoing"])
def test_incoming_and_outgoing_tabs_send_q_ms_bounds_and_sort(
    owner_client, line, demo_upstream, kind
):
    response = owner_client.get(
        url(line, kind, "?q=%2B3247&from=2026-11-13&to=2026-11-20&sort=duration&dir=desc&page=2")
    )
    assert response.status_code == 200
    start = int(datetime(2026, 11, 13, tzinfo=UTC).timestamp() * 1000)
    end = int(datetime(2026, 11, 21, tzinfo=UTC).timestamp() * 1000) - 1
    assert only_request(demo_upstream) == (
        f"/call/{kind}/list/",
        {
            "offset": "50",
            "limit": "51",
            "q": "+3247",
            "date_from_ms": str(start),
            "date_to_ms": str(end),
            "sort_by": "duration_sec",
            "sort_dir": "desc",
        },
    )


def test_day_bounds_use_the_viewers_time_zone(owner_client, owner, line, demo_upstream):
    from dashboard.accounts.models import Profile

    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    owner_client.get(url(line, "incoming", "?from=2026-11-20&to=2026-11-20"))
    _, params = only_request(demo_upstream)
    assert params["date_from_ms"] == str(
        int(datetime(2026, 11, 19, 15, tzinfo=UTC).timestamp() * 1000)
    )
    assert "Times in Asia/Tokyo" in owner_client.get(url(line, "incoming")).content.decode()


@pytest.mark.parametrize(
    ("sort", "upstream"),
    [
        ("date", "call_date_ms"),
        ("duration", "duration_sec"),
        ("number", "phone_number"),
        ("name", "cached_name"),
        ("location", "geo_location"),
    ],
)
def test_each_sortable_column_reaches_the_provider(
    owner_client, line, demo_upstream, sort, upstream
):
    owner_client.get(url(line, "outgoing", f"?sort={sort}&dir=asc"))
    # Name and location first look for where the empty values end (they go last).
    asked = {(r.params["sort_by"], r.params["sort_dir"]) for r in demo_upstream.recorded()}
    assert asked == {(upstream, "asc")}


def test_missed_calls_show_newest_first_and_no_sort_links(owner_client, line, demo_upstream):
    html = owner_client.get(url(line, "missed", "?sort=duration&dir=asc")).content.decode()
    _, params = only_request(demo_upstream)
    assert "sort_by" not in params
    assert "newest first" in html
    assert 'class="sort"' not in html and "aria-sort" not in html


def test_sort_headers_announce_state_and_reverse_on_click(owner_client, line):
    html = owner_client.get(url(line, "incoming", "?sort=duration&dir=desc")).content.decode()
    duration_header = re.search(
        r'<th scope="col" class="col-duration" aria-sort="(\w+)">\s*<a class="sort" href="([^"]+)"',
        html,
    )
    assert duration_header.group(1) == "descending"
    assert "sort=duration" in duration_header.group(2) and "dir=asc" in duration_header.group(2)
    assert 'aria-sort="none"' in html  # the other sortable columns


# htmx: one template, partial for swaps ---------------------------------------------------


def test_htmx_request_gets_the_same_rows_as_the_full_page(owner_client, line):
    target = url(line, "incoming", "?q=%2B32&sort=name&dir=asc&page=2")
    full = owner_client.get(target).content.decode()
    partial = owner_client.get(target, HTTP_HX_REQUEST="true").content.decode()
    assert rows(full) and rows(full) == rows(partial)
    assert "<html" not in partial and 'id="filters"' not in partial
    assert '<div id="filter-state" hx-swap-oob="true">' in partial


def test_responses_vary_on_hx_request(owner_client, line):
    response = owner_client.get(url(line, "missed"))
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_request_gets_the_whole_page(owner_client, line):
    response = owner_client.get(
        url(line, "missed"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_an_expired_session_on_htmx_redirects_the_whole_page_to_login(client, line):
    response = client.get(url(line, "missed"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


def test_an_expired_session_on_a_full_page_redirects_to_login(client, line):
    response = client.get(url(line, "missed"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# Pagination edges -------------------------------------------------------------------------


def _page(owner_client, line, query):
    html = owner_client.get(url(line, "incoming", query)).content.decode()
    return html, len(rows(html)), 'rel="next"' in html, 'rel="prev"' in html


def test_no_rows_shows_the_empty_state(owner_client, owner):
    empty = make_line(owner, "demo-empty")
    html, count, has_next, has_prev = _page(owner_client, empty, "")
    assert (count, has_next, has_prev) == (0, False, False)
    assert "No calls yet on this line." in html


def test_filters_matching_nothing_say_so_and_offer_to_clear(owner_client, line):
    html, count, has_next, _ = _page(owner_client, line, "?q=nobody-has-this-name")
    assert count == 0 and not has_next
    assert "No calls match these filters." in html and "nobody-has-this-name" in html
    assert "Clear filters" in html


def _count_all(demo_upstream, line, kind="incoming", **query) -> int:
    from dashboard.smsmobileapi.client import SmsMobileApiClient  # noqa: F401
    from dashboard.smsmobileapi.conf import get_client
    from dashboard.smsmobileapi.records import CallQuery

    total, offset = 0, 0
    while True:
        batch = get_client().list_calls(
            line.get_api_key(), CallKind(kind), CallQuery(offset=offset, limit=200, **query)
        )
        total += len(batch.calls)
        if len(batch.calls) < 200:
            return total
        offset += 200


def test_fewer_rows_than_a_page(owner_client, line, demo_upstream):
    day = date(2026, 11, 18)
    total = _count_all(demo_upstream, line, date_from=day, date_to=day)
    assert 0 < total < 25
    html, count, has_next, _ = _page(
        owner_client, line, "?from=2026-11-18&to=2026-11-18&per_page=25"
    )
    assert (count, has_next) == (total, False)
    assert f"Showing 1–{total}" in html


def test_an_exactly_full_last_page_has_no_dead_next(owner_client, line):
    # 50 calls, 25 a page: page 2 is full and the last; only the extra row asked for
    # tells it from a page 3.
    calls = [call("incoming", f"+3247000{n:04d}", T0 - timedelta(minutes=n)) for n in range(50)]
    with provider({SUPPORT_KEY: calls}):
        _, count, has_next, has_prev = _page(owner_client, line, "?per_page=25&page=1")
        assert (count, has_next, has_prev) == (25, True, False)
        _, count, has_next, has_prev = _page(owner_client, line, "?per_page=25&page=2")
        assert (count, has_next, has_prev) == (25, False, True)
        _, count, has_next, _ = _page(owner_client, line, "?per_page=50")
        assert (count, has_next) == (50, False)


def test_exactly_a_page_and_a_page_and_one(owner_client, owner):
    from dashboard.smsmobileapi import conf
    from dashboard.smsmobileapi.records import Call, CallBatch

    class Fixed:
        def __init__(self, n):
            self.n = n

        def list_calls(self, api_key, kind, query):
            calls = [
                Call(
                    kind=kind,
                    number=f"+3247000{i:04d}",
                    name="",
                    started_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
                for i in range(self.n)
            ][query.offset : query.offset + query.limit]
            return CallBatch(kind=kind, calls=tuple(calls), offset=query.offset, limit=query.limit)

    line = make_line(owner, "demo-x")
    previous = conf.set_client(Fixed(25))
    try:
        _, count, has_next, _ = _page(owner_client, line, "?per_page=25")
        assert (count, has_next) == (25, False)
        conf.set_client(Fixed(26))
        cache.clear()  # the same URL would otherwise be a cache hit from the first client
        _, count, has_next, _ = _page(owner_client, line, "?per_page=25")
        assert (count, has_next) == (25, True)
        html, count, has_next, has_prev = _page(owner_client, line, "?per_page=25&page=2")
        assert (count, has_next, has_prev) == (1, False, True)
        assert "Showing 26–26" in html
    finally:
        conf.set_client(previous)


def test_page_two_links_back_and_forward_keeping_the_filters(owner_client, line):
    html = owner_client.get(
        url(line, "incoming", "?q=%2B32&sort=duration&dir=asc&page=2")
    ).content.decode()
    prev_link = re.search(r'rel="prev" href="([^"]+)"', html).group(1)
    next_link = re.search(r'rel="next" href="([^"]+)"', html).group(1)
    for link, page in ((prev_link, "1"), (next_link, "3")):
        assert (
            "q=%2B32" in link
            and "sort=duration" in link
            and "dir=asc" in link
            and f"page={page}" in link
        )


# Display -----------------------------------------------------------------------------------


def test_rows_show_formatted_numbers_durations_and_unknown_names(owner_client, line):
    html = owner_client.get(url(line, "incoming", "?per_page=100")).content.decode()
    assert re.search(r">\+32 4\d\d \d\d \d\d \d\d<", html), (
        "Belgian numbers are grouped for reading"
    )
    assert re.search(r'class="col-duration num"[^>]*>\d+:\d\d(:\d\d)?<', html)
    assert "Unknown" in html
    # To the second, in the viewer's zone (static/js/app.js shows it on hover).
    assert re.search(r'<time datetime="2026-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">', html)


def test_clicking_a_number_opens_its_caller_page(owner_client, line):
    html = owner_client.get(url(line, "missed")).content.decode()
    link = re.search(r'<td class="col-number"[^>]*><a href="([^"]+)"', html).group(1)
    assert re.fullmatch(rf"/lines/{line.pk}/callers/\+\d+/", link)


def test_hostile_names_are_escaped_and_truncated(owner_client, owner):
    hostile = make_line(owner, "demo-hostile")
    for kind in CallKind:
        html = owner_client.get(url(hostile, kind, "?per_page=100")).content.decode()
        assert "<script>alert" not in html
        cells = [
            (unescape(title), unescape(text))
            for title, text in re.findall(
                r'<td class="col-name" title="([^"]*)">(.*?)</td>',
                html,
                flags=re.S,
            )
        ]
        shown = {text for _, text in cells}
        assert "<script>alert(1)</script>" in shown  # escaped, so it reads as text
        assert all(len(text) <= 120 for text in shown)
        # The 5,000-character name: cut to 120 with an ellipsis, whole on hover.
        long_name = next(title for title, _ in cells if len(title) == 5000)
        assert (long_name[:119] + "…") in shown


# Upstream errors become banners, never 500s ------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "code", "message"),
    [
        ("demo-invalid", "incoming", "invalid_apikey", "rejected this line"),
        ("demo-expired", "outgoing", "api_expired", "subscription for this line has expired"),
        ("demo-failing", "missed", "server_error", "internal error"),
        ("demo-ratelimited", "incoming", "rate_limited", "slow down"),
        ("demo-broken", "incoming", "server_error", "internal error"),
        ("demo-truncated", "missed", "bad_response", "could not read"),
    ],
)
def test_each_upstream_error_shows_its_banner(owner_client, owner, key, kind, code, message):
    errored = make_line(owner, key)
    for htmx in (False, True):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = owner_client.get(url(errored, kind), **headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'data-error="{code}"' in html
        assert message in html
        assert key not in html


def test_an_unreachable_provider_shows_a_banner(owner_client, line):
    from dashboard.smsmobileapi import conf
    from dashboard.smsmobileapi.client import SmsMobileApiClient

    with refused_port() as port:
        previous = conf.set_client(
            SmsMobileApiClient(f"http://127.0.0.1:{port}", connect_retries=0, connect_timeout=1)
        )
        try:
            html = owner_client.get(url(line, "incoming")).content.decode()
        finally:
            conf.set_client(previous)
    assert 'data-error="unreachable"' in html and "cannot be reached" in html


def test_an_undecryptable_stored_key_shows_a_banner_naming_the_setting(owner_client, line):
    type(line).objects.filter(pk=line.pk).update(encrypted_api_key="gAAAAA-not-a-token")
    html = owner_client.get(url(line, "missed")).content.decode()
    assert "FIELD_ENCRYPTION_KEYS" in html


# Bad input never breaks a page --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "?sort=nonsense",
        "?dir=sideways",
        "?page=-3",
        "?page=999999999999",
        "?page=abc",
        "?per_page=100000",
        "?per_page=-1",
        "?from=2026-13-45",
        "?from=1900-01-01",
        "?to=not-a-date",
        "?from=2026-11-20&to=2026-11-01",
        "?q=" + "x" * 10_000,
        "?q=%00%01%1b%7f%E2%80%AE",
        "?q=%ZZ",
        "?page=1&page=2&sort=date&sort=",
    ],
)
@pytest.mark.parametrize("kind", ["missed", "incoming"])
def test_bad_input_gets_a_clean_request_and_no_500(owner_client, line, demo_upstream, query, kind):
    response = owner_client.get(url(line, kind, query))
    assert response.status_code == 200
    _, params = only_request(demo_upstream)
    assert 0 <= int(params["offset"]) <= 10_000 * 100
    # A page and one more row, or the shared newest-first chunk (calls/exact.py).
    assert 1 <= int(params["limit"]) <= SHARED_CHUNK
    if kind == "incoming":
        assert params["sort_by"] in {
            "call_date_ms",
            "duration_sec",
            "phone_number",
            "cached_name",
            "geo_location",
        }
        assert params["sort_dir"] in {"asc", "desc"}
        assert int(params.get("date_from_ms", 0)) <= int(params.get("date_to_ms", 2**62))
    for value in params.values():
        assert value.isprintable() and len(value) <= 100


def test_bad_values_are_reported_next_to_the_filters(owner_client, line, demo_upstream):
    html = owner_client.get(
        url(line, "incoming", "?per_page=100000&from=2026-13-45&from=x&sort=zzz&page=0")
    ).content.decode()
    problems = re.findall(r'<p class="banner banner-warning" role="status">(.*?)</p>', html)
    # One message per bad value, in plain words: what was wrong and what is shown instead.
    assert problems == [
        "The “From” date was not understood, so it was left out.",
        "That sort order is not one the list knows; sorted by time instead.",
        "The page number in the link was not understood (it goes from 1 to 10,000); "
        "showing the first page.",
        "A page shows 25, 50 or 100 calls; showing 50.",
    ]
    # …and the page is still served, with the defaults in place of the bad values.
    _, params = only_request(demo_upstream)
    # The default first page is a slice of the shared newest-first chunk (calls/exact.py).
    assert (params["limit"], params["offset"], params["sort_by"]) == (
        str(SHARED_CHUNK),
        "0",
        "call_date_ms",
    )


def test_a_page_past_the_limit_is_said_in_plain_words(owner_client, line, demo_upstream):
    html = owner_client.get(
        url(line, "missed", "?page=10001&dir=up&to=1999-01-01")
    ).content.decode()
    assert "Ensure this value" not in html and "page:" not in html.lower()
    assert "The page number in the link was not understood (it goes from 1 to 10,000)" in html
    assert "The order in the link was not understood; showing newest first." in html
    assert "Dates before 2000 are not supported." in html


def test_swapped_dates_are_swapped_and_said(owner_client, line, demo_upstream):
    html = owner_client.get(url(line, "missed", "?from=2026-11-20&to=2026-11-01")).content.decode()
    _, params = only_request(demo_upstream)
    assert (params["date_start"], params["date_end"]) == ("2026-11-01", "2026-11-20")
    assert "dates were swapped" in html


def test_a_line_id_that_is_not_a_number_is_a_404(owner_client):
    assert owner_client.get("/lines/abc/missed/").status_code == 404
    assert owner_client.get("/lines/99999999999999999999999/missed/").status_code == 404


def test_an_unknown_kind_is_a_404(owner_client, line):
    assert owner_client.get(f"/lines/{line.pk}/voicemail/").status_code == 404


def test_line_home_and_site_home_redirect_to_the_missed_tab(owner_client, line):
    assert owner_client.get(f"/lines/{line.pk}/")["Location"] == url(line, "missed")
    assert owner_client.get("/")["Location"] == url(line, "missed")


def test_a_user_without_lines_is_told_how_to_get_one(client, stranger):
    client.force_login(stranger)
    assert "No lines yet" in client.get("/").content.decode()


def test_the_line_switcher_lists_every_visible_line(owner_client, owner, line):
    make_line(owner, "demo-sales", "Sales mobile")
    html = owner_client.get(url(line, "missed")).content.decode()
    assert "Sales mobile" in html and 'class="line-switcher"' in html


def test_site_home_returns_to_the_line_last_viewed(owner_client, owner, line):
    sales = make_line(owner, "demo-sales", "Sales mobile")
    owner_client.get(url(sales, "incoming"))
    assert owner_client.get("/")["Location"] == url(sales, "missed")


def test_tab_links_carry_no_bare_question_mark(owner_client, line):
    html = owner_client.get(url(line, "incoming")).content.decode()
    assert f'href="{url(line, "outgoing")}"' in html
    assert '/?"' not in html


def test_the_filter_form_names_the_defaults_the_url_can_leave_out(owner_client, line):
    html = owner_client.get(url(line, "incoming")).content.decode()
    assert """data-defaults='{"sort": "date", "dir": "desc", "per_page": "50"}'""" in html


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        # Both forms the phone may store (+32470… and 0470…) hold the digits sent.
        ("+32 470", "470"),
        ("+32 (0)470 12.34.56", "470123456"),
        ("0470/12-34-56", "470123456"),
        ("Zoë 2", "Zoë 2"),
        ("Room 101", "Room 101"),
    ],
)
def test_a_number_typed_with_grouping_is_searched_without_it(
    owner_client, line, demo_upstream, typed, sent
):
    from urllib.parse import quote

    owner_client.get(url(line, "incoming", "?q=" + quote(typed)))
    _, params = only_request(demo_upstream)
    assert params["q"] == sent


def test_the_done_when_scenario_finds_incoming_calls_from_a_grouped_prefix(owner_client, line):
    # "every incoming call from +32 470 in the last 7 days, longest first, page 2" (the demo
    # line's Belgian mobiles are +32 47x and too few for a second page in 7 days: 30 days)
    query = "?q=%2B32+47&from=2026-10-22&to=2026-11-20&sort=duration&dir=desc&page=2&per_page=25"
    html = owner_client.get(url(line, "incoming", query)).content.decode()
    cells = re.findall(r'<td class="col-number"[^>]*><a [^>]*>(.*?)</a>', html)
    assert cells and all(c.startswith("<mark>+32 47</mark>") for c in cells)  # the match
    numbers = [re.sub(r"</?mark>", "", c) for c in cells]
    assert all(n.startswith("+32 47") for n in numbers)
    durations = [
        sum(int(p) * 60**i for i, p in enumerate(reversed(d.split(":"))))
        for d in re.findall(r'class="col-duration num"[^>]*>([\d:]+)<', html)
    ]
    assert durations == sorted(durations, reverse=True)
    assert "Showing 26–" in html


def test_a_malformed_row_in_the_extra_one_still_shows_next(owner_client, owner):
    from dashboard.smsmobileapi import conf
    from dashboard.smsmobileapi.records import Call, CallBatch

    class OneBadRow:
        def list_calls(self, api_key, kind, query):
            good = [
                Call(
                    kind=kind,
                    number=f"+3247000{i:04d}",
                    name="",
                    started_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
                for i in range(query.limit - 1)
            ]
            # The provider sent `limit` rows; one of them was too malformed to show.
            return CallBatch(
                kind=kind, calls=tuple(good), offset=query.offset, limit=query.limit, skipped_rows=1
            )

    line = make_line(owner, "demo-y")
    previous = conf.set_client(OneBadRow())
    try:
        _, count, has_next, _ = _page(owner_client, line, "?per_page=25")
    finally:
        conf.set_client(previous)
    assert (count, has_next) == (25, True)


def test_cached_rows_are_never_served_in_another_language_or_zone(owner_client, owner, line):
    from dashboard.accounts.models import Profile

    target = url(line, "incoming")
    english = owner_client.get(target).content.decode()
    japanese = owner_client.get(target, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'data-label="Duration"' in english
    assert 'data-label="Duration"' not in japanese
    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    tokyo = owner_client.get(target, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert rows(tokyo) != rows(english)  # same calls, other clock times
    assert "+09:00" in rows(tokyo)[0]


def test_beside_each_number_a_link_filters_this_list_by_it(owner_client, line, demo_upstream):
    html = owner_client.get(url(line, "incoming", "?sort=duration")).content.decode()
    link = (
        re.search(r'<a class="filter-number" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    )
    assert "q=%2B" in link and "sort=duration" in link
    demo_upstream.clear_requests()
    owner_client.get(url(line, "incoming", link))
    _, params = only_request(demo_upstream)
    number = unquote_plus(link.split("q=", 1)[1].split("&", 1)[0])
    # The number's national significant digits, which any stored form of it contains.
    assert params["q"].isdigit() and number.endswith(params["q"])
    assert params["sort_by"] == "duration_sec"


# Read views answer GET (and HEAD) only ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("home", {}),
        ("line-list", {}),
        ("line-home", {"line_id": None}),
        ("line-calls", {"line_id": None, "kind": "incoming"}),
        ("line-timeline", {"line_id": None}),
        ("line-caller", {"line_id": None, "number": "+32470123456"}),
        ("line-overview", {"line_id": None}),
        ("line-overview-content", {"line_id": None}),
        ("line-export", {"line_id": None, "kind": "missed"}),
        ("line-audit", {"line_id": None}),
    ],
)
def test_a_post_to_a_read_view_is_a_405_and_asks_the_provider_nothing(
    owner_client, line, demo_upstream, name, kwargs
):
    target = reverse(name, kwargs={k: line.pk if v is None else v for k, v in kwargs.items()})
    response = owner_client.post(target)
    assert (response.status_code, response["Allow"]) == (405, "GET, HEAD")
    assert demo_upstream.recorded() == []
    assert owner_client.head(target).status_code in (200, 302)


def range_note(html: str) -> str:
    """The status line above a table ("Showing 1–50 · newest first"); the zone and its
    switch follow it (tests/test_time_zones.py)."""
    note = re.search(r'<p class="range"[^>]*>(.*?)</p>', html, flags=re.S)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", note)).split())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("missed", "newest first"), ("incoming", "")],
)
def test_an_empty_list_has_no_separator_before_its_first_note(owner_client, line, kind, expected):
    response = owner_client.get(url(line, kind, "?q=nobody-has-this-name"))
    assert rows(response.content.decode()) == []
    assert range_note(response.content.decode()) == expected


def test_a_full_list_separates_each_note(owner_client, line):
    note = range_note(owner_client.get(url(line, "missed")).content.decode())
    assert note == f"Showing 1–{DEFAULT_PER_PAGE} · newest first"


def switcher_links(html: str) -> dict[str, str]:
    nav = html.split('class="line-switcher"', 1)[1].split("</nav>", 1)[0]
    return {
        label: unescape(href)
        for href, label in re.findall(r'<a href="([^"]*)"[^>]*>([^<]+)</a>', nav)
    }


def test_switching_lines_keeps_the_tab_search_dates_and_sort_but_not_the_page(
    owner_client, owner, line
):
    sales = make_line(owner, "demo-sales", "Sales mobile")
    query = "?q=Zo%C3%AB&from=2026-11-01&to=2026-11-07&sort=name&dir=asc&page=2"
    html = owner_client.get(url(line, "incoming", query)).content.decode()
    assert switcher_links(html)["Sales mobile"] == url(
        sales, "incoming", "?q=Zo%C3%AB&from=2026-11-01&to=2026-11-07&sort=name&dir=asc"
    )


def test_switching_lines_on_the_timeline_keeps_the_search_but_not_the_cursor(
    owner_client, owner, line
):
    sales = make_line(owner, "demo-sales", "Sales mobile")
    timeline = reverse("line-timeline", kwargs={"line_id": line.pk})
    first = owner_client.get(timeline + "?from=2026-10-01").content.decode()
    next_page = unescape(re.search(r'href="(\?[^"]*cursor=[^"]+)"', first)[1])
    html = owner_client.get(timeline + next_page).content.decode()
    assert 'rel="prev"' in html and 'rel="prev"' not in first  # past the first page
    sales_timeline = reverse("line-timeline", kwargs={"line_id": sales.pk})
    assert switcher_links(html)["Sales mobile"] == sales_timeline + "?from=2026-10-01"


# Cells and headers ----------------------------------------------------------------------


def _header_and_cell_classes(html: str) -> tuple[list[str], list[list[str]]]:
    head = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    headers = re.findall(r'<th scope="col" class="(col-[a-z]+)"', head)
    cells = [re.findall(r'<td class="(col-[a-z]+)[ "]', row) for row in rows(html)]
    return headers, cells


FIRST = ["col-when", "col-number", "col-name"]
TALK = ["col-duration", "col-location"]


@pytest.mark.parametrize(
    "screen, expected",
    [
        ("missed", [*FIRST, "col-followup"]),
        ("incoming", [*FIRST, *TALK]),
        ("outgoing", [*FIRST, *TALK]),
        ("timeline", ["col-when", "col-kind", *FIRST[1:], *TALK, "col-followup"]),
    ],
)
def test_every_row_has_one_cell_per_header_in_header_order(owner_client, line, screen, expected):
    kind, _, query = screen.partition("?")
    if kind == "timeline":
        target = reverse("line-timeline", kwargs={"line_id": line.pk})
    else:
        target = url(line, kind, f"?{query}" if query else "")
    response = owner_client.get(target)
    assert response.status_code == 200
    headers, cells = _header_and_cell_classes(response.content.decode())
    assert headers == expected
    assert cells, "the demo line has calls on every screen"
    assert all(row == headers for row in cells), {tuple(row) for row in cells}


def every_page(owner_client, line, kind: str, query: str) -> list[str]:
    """The Name (or Location) cell of every row, page after page."""
    cells, page = [], 1
    while True:
        html = owner_client.get(url(line, kind, f"{query}&per_page=100&page={page}")).content
        found = rows(html.decode())
        cells += found
        if 'rel="next"' not in html.decode() or not found:
            return cells
        page += 1


@pytest.mark.parametrize(
    ("sort", "cell", "empty"),
    [("name", "col-name", "Unknown"), ("location", "col-location", "")],  # "—" is CSS
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_empty_names_and_locations_go_last_in_both_directions(
    owner_client, line, sort, cell, empty, direction
):
    listed = every_page(owner_client, line, "incoming", f"?sort={sort}&dir={direction}")
    names = [
        " ".join(
            unescape(
                re.sub(
                    r"<[^>]+>",
                    " ",
                    re.search(rf'<td class="{cell}[^"]*"[^>]*>(.*?)</td>', row, flags=re.S)[1],
                )
            ).split()
        )
        for row in listed
    ]
    known = [n for n in names if n != empty]
    assert known and len(known) < len(names)  # both kinds of row are there
    assert names[: len(known)] == known  # every empty one after every named one
    assert len(set(listed)) == len(listed)  # nothing repeated across pages
    assert len(listed) == len(every_page(owner_client, line, "incoming", "?sort=date"))
