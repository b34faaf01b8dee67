"""On a phone (390 px wide) the calls read as cards and nothing scrolls sideways, even with
the longest, most hostile names a contact list can hold."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.conftest import make_line

pytestmark = pytest.mark.browser


def page_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


@pytest.mark.parametrize("kind", ["missed", "incoming"])
def test_hostile_names_on_a_phone_fit_the_screen_as_one_card_per_call(browse, owner, kind):
    line = make_line(owner, "demo-hostile", "Hostile " + "W" * 80)
    page = browse.page(owner, path=f"/lines/{line.pk}/{kind}/", viewport=PHONE)

    assert page_width(page) <= PHONE["width"]
    first = page.locator("#results tbody tr").first
    assert first.evaluate("tr => getComputedStyle(tr).display") in ("block", "flex")  # a card
    box = first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # Compact cards: a time, a number and a name read as what they are; a bare "1:18"
    # does not, so the duration carries its column's name (no header row above a card).
    labels = first.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)"
    )
    assert labels[:3] == ["none", "none", "none"]
    assert labels[3:4] == (['"Duration"'] if kind == "incoming" else ["none"])
    expect(page.locator("#results tbody tr")).to_have_count(50)
    browse.axe(page, f"{kind} calls on a phone")


def test_on_a_phone_dates_and_page_size_fold_behind_a_summary_until_opened(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/", viewport=PHONE)
    summary = page.get_by_text("Dates and page size")
    date_from = page.get_by_label("From", exact=True)
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    expect(summary).to_be_visible()
    expect(date_from).to_be_hidden()
    browse.screenshot(page, "mobile")

    summary.click()
    expect(date_from).to_be_visible()
    browse.axe(page, "the unfolded filters on a phone")

    # A date filter that is on stays in sight.
    page.goto(f"/lines/{line.pk}/incoming/?from=2026-11-01")
    expect(date_from).to_be_visible()
    expect(date_from).to_have_value("2026-11-01")
    assert page_width(page) <= PHONE["width"]


@pytest.mark.parametrize("kind", ["missed", "incoming", "all"])
def test_on_a_phone_the_first_call_starts_within_the_top_350_px_as_compact_cards(
    browse, owner, line, sales_line, kind
):
    # Two lines: the top bar carries the line switcher, as most teams' phones would.
    page = browse.page(owner, path=f"/lines/{line.pk}/{kind}/", viewport=PHONE)
    rows = page.locator("#results tbody tr")
    first = rows.first.bounding_box()
    assert first and first["y"] <= 350, first  # main: y ≈ 670
    # No header row above the cards (the sort headers are for wide tables).
    expect(page.locator("#results thead")).to_be_hidden()
    # Compact: at least eight cards per screen (main showed about five).
    heights = [rows.nth(i).bounding_box()["height"] for i in range(10)]
    assert max(heights) <= PHONE["height"] / 8, heights
    # The pager at the top and at the bottom.
    expect(page.locator(".pager-top a[rel=next]")).to_be_visible()
    expect(page.locator(".pager-bottom a[rel=next]")).to_have_count(1)
    assert page_width(page) <= PHONE["width"]
    if kind == "missed":
        browse.screenshot(page, "mobile-missed")
    browse.axe(page, f"{kind} on a phone")
