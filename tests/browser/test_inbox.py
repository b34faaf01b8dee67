"""The missed-call inbox in a real browser: claiming a caller from its row, marking several
at once (ticked with the mouse and the keyboard), and the counts following every change
without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.inbox.models import CallerStatus, Episode
from tests.browser.conftest import (
    htmx_response,
    marker_survived,
    query,
    set_marker,
    wait_settled,
)

pytestmark = pytest.mark.browser


def open_count(page) -> int:
    return int(page.locator(".tabs .tab-missed [data-open-count]").inner_text())


def test_claiming_a_caller_from_its_row(browse, owner, line):
    page = browse.page(owner, f"/lines/{line.pk}/inbox/")
    set_marker(page)
    first = page.locator("#results tbody tr").first
    number = first.get_attribute("data-episode")
    first.get_by_role("button", name="I'll take it").click()
    row = page.locator(f"#results tbody tr[data-episode='{number}']")
    expect(row.locator("td.col-owner")).to_have_text(owner.username)
    expect(page.locator("#results .messages")).to_contain_text("1 caller updated.")
    assert marker_survived(page)  # no page load
    assert Episode.objects.get(pk=number).owner == owner
    browse.axe(page, "the inbox after a claim")
    page.locator("h1").scroll_into_view_if_needed()
    browse.screenshot(page, "inbox")  # the README's picture of the inbox
    assert not browse.problems, browse.problems


def test_bulk_marking_callers_updates_the_counts_and_the_title_live(browse, owner, line):
    page = browse.page(owner, f"/lines/{line.pk}/inbox/")
    set_marker(page)
    before = open_count(page)
    assert before >= 3
    expect(page).to_have_title(re.compile(rf"^\({before}\) Missed calls"))
    rows = page.locator("#results tbody tr")
    rows.nth(0).locator("input[name=selected]").check()
    # The keyboard: "x" ticks the row that has focus (here its number link).
    rows.nth(1).locator("td.col-number a").focus()
    page.keyboard.press("x")
    expect(rows.nth(1).locator("input[name=selected]")).to_be_checked()
    chosen = [rows.nth(i).get_attribute("data-episode") for i in (0, 1)]
    page.get_by_label("With the selected").select_option("mark")
    page.get_by_label("Mark as", exact=True).select_option("ignored")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator("#results .messages")).to_contain_text("2 callers updated.")
    for pk in chosen:
        expect(page.locator(f"#results tbody tr[data-episode='{pk}']")).to_have_count(0)
    expect(page.locator(".tabs .tab-missed [data-open-count]")).to_have_text(str(before - 2))
    expect(page).to_have_title(re.compile(rf"^\({before - 2}\) Missed calls"))
    assert marker_survived(page)
    assert set(Episode.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {
        CallerStatus.IGNORED
    }
    assert not browse.problems, browse.problems


def test_marking_in_the_dialog_closes_it_and_the_counts_follow(browse, owner, line):
    page = browse.page(owner, f"/lines/{line.pk}/inbox/")
    set_marker(page)
    before = open_count(page)
    first = page.locator("#results tbody tr").first
    pk = first.get_attribute("data-episode")
    first.locator("a.mark").click()
    dialog = page.locator("#followup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[type=radio]:checked")).to_have_count(0)  # nothing chosen
    browse.axe(page, "the caller dialog")
    dialog.get_by_label("Called back").check()
    dialog.get_by_label("Note").fill("Left a voicemail")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#results tbody tr[data-episode='{pk}']")).to_have_count(0)
    expect(page.locator(".tabs .tab-missed [data-open-count]")).to_have_text(str(before - 1))
    expect(page).to_have_title(re.compile(rf"^\({before - 1}\) "))
    assert marker_survived(page)
    assert Episode.objects.get(pk=pk).note == "Left a voicemail"
    assert not browse.problems, browse.problems


def test_each_inbox_row_is_one_tab_stop_and_its_box_is_an_arrow_or_x_away(browse, owner, line):
    """Issue #16 item 7: at most one Tab stop per row, the selection box still operable."""
    page = browse.page(owner, f"/lines/{line.pk}/inbox/")
    stops = page.evaluate(
        """() => [...document.querySelectorAll('#results tbody tr')].map(tr =>
             [...tr.querySelectorAll('a[href], button, input, [tabindex]')]
               .filter(el => el.tabIndex >= 0).length)"""
    )
    assert stops and max(stops) == 1, stops
    rows = page.locator("#results tbody tr")
    # Tab from the last header link goes to the first row's number, then the second's.
    page.locator("thead th.col-waiting a").focus()
    page.keyboard.press("Tab")
    expect(rows.nth(0).locator("td.col-number a")).to_be_focused()
    page.keyboard.press("Tab")
    expect(rows.nth(1).locator("td.col-number a")).to_be_focused()

    box = rows.nth(1).locator("input[name=selected]")
    page.keyboard.press("x")
    expect(box).to_be_checked()
    page.keyboard.press("ArrowLeft")
    expect(box).to_be_focused()
    page.keyboard.press("Space")
    expect(box).not_to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(rows.nth(1).locator("td.col-number a")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(rows.nth(1).locator("a.mark")).to_be_focused()
    # j/k land on the number, the row's one stop.
    page.keyboard.press("j")
    expect(rows.nth(2).locator("td.col-number a")).to_be_focused()
    assert not browse.problems, browse.problems


def test_the_top_pager_pages_the_inbox_in_place_keeping_the_filters(browse, owner, line):
    """The inbox has the call tables' pager above the table too (the same partial)."""
    page = browse.page(owner, f"/lines/{line.pk}/inbox/?status=all&per_page=25")
    rows = page.locator("#results tbody tr")
    first = [rows.nth(i).get_attribute("data-episode") for i in range(rows.count())]
    assert len(first) == 25
    expect(page.locator(".pager-bottom a[rel=next]")).to_have_count(1)
    set_marker(page)
    with htmx_response(page):
        page.locator(".pager-top a[rel=next]").click()
    wait_settled(page)
    assert query(page) == {"status": "all", "per_page": "25", "page": "2"}
    expect(page.locator(".range")).to_contain_text("Showing 26–")
    second = [rows.nth(i).get_attribute("data-episode") for i in range(rows.count())]
    assert second and not set(second) & set(first)
    with htmx_response(page):
        page.locator(".pager-top a[rel=prev]").click()
    wait_settled(page)
    assert [rows.nth(i).get_attribute("data-episode") for i in range(rows.count())] == first
    assert marker_survived(page)
    browse.axe(page, "the inbox with its two pagers")
    assert not browse.problems, browse.problems
