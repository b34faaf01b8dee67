"""The call tables in a real browser: every way of changing the view swaps the table
in place, keeps the URL the source of truth, and stays accessible in light and dark."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from dashboard import formats
from tests.browser.conftest import (
    first_name_word,
    htmx_response,
    marker_survived,
    query,
    rows,
    set_marker,
    wait_settled,
)
from tests.conftest import DEMO_NOW

pytestmark = pytest.mark.browser


def row_days(page: Page) -> list[date]:
    stamps = page.locator("#results tbody td.col-when time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))"
    )
    return [datetime.fromisoformat(s).date() for s in stamps]


def seconds(text: str) -> int:
    """'3:07' or '1:02:03' → seconds."""
    total = 0
    for part in text.strip().split(":"):
        total = total * 60 + int(part)
    return total


def durations(page: Page) -> list[int]:
    return [seconds(t) for t in page.locator("#results td.col-duration").all_inner_texts()]


def test_switching_line_and_tab_loads_that_line_and_kind(browse, owner, line, sales_line):
    page = browse.page(owner, path=f"/lines/{line.pk}/missed/")
    page.locator(".line-switcher summary").click()
    expect(page.get_by_role("link", name="Sales mobile")).to_be_visible()
    browse.axe(page, "the line switcher, open")

    page.get_by_role("link", name="Sales mobile").click()
    expect(page).to_have_url(re.compile(rf"/lines/{sales_line.pk}/missed/$"))
    expect(page.locator("#results caption")).to_contain_text("Missed calls — Sales mobile")

    page.get_by_role("navigation", name="Call kinds").get_by_role("link", name="Incoming").click()
    expect(page).to_have_url(re.compile(rf"/lines/{sales_line.pk}/incoming/\??$"))
    expect(page.locator(".tab-incoming")).to_have_attribute("aria-current", "page")
    expect(page.locator("#results caption")).to_contain_text("Incoming calls — Sales mobile")
    expect(page.locator("#results tbody tr")).to_have_count(50)
    browse.axe(page, "incoming calls of another line")


def test_typing_a_search_swaps_the_table_in_place_updates_the_url_and_keeps_focus(
    browse, owner, line
):
    page = browse.page(owner, path=f"/lines/{line.pk}/missed/")
    before = rows(page)
    term = first_name_word(page)
    set_marker(page)

    search = page.get_by_label("Search", exact=True)
    search.click()
    with htmx_response(page):
        page.keyboard.type(term)
    wait_settled(page)

    assert query(page) == {"q": term}
    assert marker_survived(page), "the search reloaded the whole page"
    expect(search).to_be_focused()
    expect(search).to_have_value(term)
    after = rows(page)
    assert after and after != before
    assert all(term.lower() in row.lower() for row in after)
    browse.axe(page, "search results")


def test_date_inputs_filter_the_calls_to_those_days(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/missed/")
    set_marker(page)
    page.get_by_label("From", exact=True).fill("2026-11-10")
    page.get_by_label("To", exact=True).fill("2026-11-12")
    expect(page).to_have_url(re.compile(r"from=2026-11-10&to=2026-11-12"))
    wait_settled(page)

    assert marker_survived(page)
    days = row_days(page)
    assert days and all(date(2026, 11, 10) <= d <= date(2026, 11, 12) for d in days)
    browse.axe(page, "calls filtered by dates")


def test_quick_ranges_fill_the_dates_and_any_date_clears_them(browse, owner, line, monkeypatch):
    # "Today" for the quick ranges is the demo data's today, so the ranges hold calls
    # whatever the real date (the live server runs in this process).
    today = DEMO_NOW.date()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    set_marker(page)
    start = today - timedelta(days=29)

    with htmx_response(page):
        page.get_by_role("link", name="Last 30 days").click()
    wait_settled(page)
    assert query(page) == {"from": start.isoformat(), "to": today.isoformat()}
    expect(page.get_by_label("From", exact=True)).to_have_value(start.isoformat())
    expect(page.get_by_label("To", exact=True)).to_have_value(today.isoformat())
    days = row_days(page)
    assert days and all(start <= d <= today for d in days)

    yesterday = today - timedelta(days=1)
    with htmx_response(page):
        page.get_by_role("link", name="Yesterday").click()
    wait_settled(page)
    assert query(page) == {"from": yesterday.isoformat(), "to": yesterday.isoformat()}
    assert set(row_days(page)) == {yesterday}

    # Nobody is called that: the empty state names the filters and offers to clear them.
    with htmx_response(page):
        page.get_by_label("Search", exact=True).fill("zzqxw")
    wait_settled(page)
    empty = page.locator("#results .empty")
    expect(empty).to_contain_text("No calls match these filters.")
    with translation.override("en"):
        expect(empty).to_contain_text(f"Dates: {formats.day_range(yesterday, yesterday)}.")
        # The pickers' label says the dates too, in the same words.
        expect(page.locator("#summary-range")).to_have_text(
            f" · {formats.day_range(yesterday, yesterday)}"
        )
    expect(empty.get_by_role("link", name="Clear filters")).to_be_visible()
    browse.axe(page, "an empty result with its clear-filters action")

    with htmx_response(page):
        page.get_by_role("link", name="Any date").click()
    wait_settled(page)
    assert query(page) == {"q": "zzqxw"}
    expect(page.get_by_label("From", exact=True)).to_have_value("")
    expect(page.get_by_label("To", exact=True)).to_have_value("")
    assert marker_survived(page)


def test_sorting_by_a_header_and_reversing_it_updates_aria_sort(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    header = page.locator("th.col-duration")
    expect(header).to_have_attribute("aria-sort", "none")
    expect(page.locator("th.col-when")).to_have_attribute("aria-sort", "descending")

    with htmx_response(page):
        header.get_by_role("link").click()
    wait_settled(page)
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("th.col-when")).to_have_attribute("aria-sort", "none")
    assert query(page) == {"sort": "duration"}  # descending: the default direction
    longest_first = durations(page)
    assert longest_first == sorted(longest_first, reverse=True)
    browse.axe(page, "sorted by duration")

    with htmx_response(page):
        header.get_by_role("link").click()
    wait_settled(page)
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert query(page) == {"sort": "duration", "dir": "asc"}
    shortest_first = durations(page)
    assert shortest_first == sorted(shortest_first)
    assert shortest_first != longest_first


def test_paging_forward_and_back_shows_the_next_rows_and_returns(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/outgoing/")
    first = rows(page)
    expect(page.locator(".range")).to_contain_text("Showing 1–50")
    expect(page.locator("a[rel=prev]")).to_have_count(0)
    set_marker(page)

    with htmx_response(page):
        page.locator(".pager-bottom a[rel=next]").click()
    wait_settled(page)
    assert query(page) == {"page": "2"}
    expect(page.locator(".range")).to_contain_text("Showing 51–100")
    second = rows(page)
    assert len(second) == 50 and not set(second) & set(first)
    browse.axe(page, "the second page")

    with htmx_response(page):
        page.locator(".pager-top a[rel=prev]").click()
    wait_settled(page)
    assert query(page) == {}
    assert rows(page) == first
    assert marker_survived(page)


def test_back_and_forward_restore_each_earlier_view(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    views = [(page.url, rows(page))]
    term = first_name_word(page)

    def step(action) -> None:
        with htmx_response(page):
            action()
        wait_settled(page)
        views.append((page.url, rows(page)))

    step(lambda: page.locator("th.col-duration a").click())
    step(lambda: page.locator(".pager-bottom a[rel=next]").click())
    step(lambda: page.get_by_label("Search", exact=True).fill(term))
    assert len({url for url, _ in views}) == 4

    for url, expected in reversed(views[:-1]):
        page.go_back()
        expect(page).to_have_url(url)
        wait_settled(page)
        assert rows(page) == expected, f"rows after Back to {url}"
    for url, expected in views[1:]:
        page.go_forward()
        expect(page).to_have_url(url)
        wait_settled(page)
        assert rows(page) == expected, f"rows after Forward to {url}"
    expect(page.get_by_label("Search", exact=True)).to_have_value(term)


def test_a_copied_url_shows_the_same_rows_to_another_user_of_the_line(
    browse, owner, line, shared_user
):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    with htmx_response(page):
        page.locator("th.col-name a").click()
    wait_settled(page)
    with htmx_response(page):
        page.locator(".pager-bottom a[rel=next]").click()
    wait_settled(page)
    copied = page.url
    assert query(page) == {"sort": "name", "dir": "asc", "page": "2"}

    other = browse.page(shared_user, path=copied)
    expect(other.locator("span.username")).to_have_text("sam")
    assert rows(other) == rows(page)
    expect(other.locator("th.col-name")).to_have_attribute("aria-sort", "ascending")
    expect(other.locator(".range")).to_contain_text("Showing 51–100")


def test_refresh_fetches_again_and_updates_the_age_without_changing_the_url(
    browse, owner, line, demo_upstream
):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/?q=an")
    url = page.url
    calls_before = len(demo_upstream.recorded())
    freshness = page.locator(".freshness")
    expect(freshness).to_contain_text(re.compile(r"Updated \d+ s ago"))
    # Stand-in text: if the refreshed table is swapped in, it is gone.
    page.evaluate("() => { document.querySelector('.freshness span').textContent = 'old'; }")
    set_marker(page)

    with htmx_response(page) as response:
        page.get_by_role("link", name="Refresh").click()
    wait_settled(page)

    assert "refresh=1" in response.value.url
    expect(freshness).to_contain_text(re.compile(r"Updated \d+ s ago"))
    assert page.url == url
    assert marker_survived(page)
    assert len(demo_upstream.recorded()) == calls_before + 1  # the refresh skipped any cache
    browse.axe(page, "after a refresh")


def test_an_htmx_request_refused_by_the_server_shows_a_banner_not_silence(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    line.delete()  # e.g. its owner deleted it while this page was open
    page.get_by_label("Search", exact=True).fill("+32")
    banner = page.locator("#response-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("could not be updated")
    # The 404 is what the banner is about: htmx reports it on the console as well.
    browse.problems[:] = [p for p in browse.problems if "404" not in p and "responseError" not in p]
    browse.axe(page, "refused request banner")


def test_an_htmx_500_says_the_dashboard_failed_not_that_access_changed(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    # The server's answer to the next htmx request is an internal error.
    page.route(
        re.compile(r".*/incoming/\?.*q=.*"), lambda route: route.fulfill(status=500, body="")
    )
    page.get_by_label("Search", exact=True).fill("+32")
    banner = page.locator("#server-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("the dashboard had an internal error. Try again in a minute.")
    expect(page.locator("#response-error")).to_be_hidden()
    browse.problems[:] = [p for p in browse.problems if "500" not in p and "responseError" not in p]


def test_switching_lines_keeps_a_search_typed_after_the_page_loaded(
    browse, owner, line, sales_line
):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    term = first_name_word(page)
    with htmx_response(page):
        page.get_by_label("Search", exact=True).fill(term)
    wait_settled(page)
    assert query(page).get("q") == term

    page.locator(".line-switcher summary").click()
    with page.expect_navigation():
        page.locator(".line-switcher a", has_text="Sales mobile").click()
    assert page.url.split("?")[0].endswith(f"/lines/{sales_line.pk}/incoming/")
    assert query(page).get("q") == term
    expect(page.get_by_label("Search", exact=True)).to_have_value(term)
