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
    assert first.evaluate("tr => getComputedStyle(tr).display") == "block"
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
