"""Keyboard use of the call tables: everything reachable by Tab, operable by Enter, with a
visible focus ring, focus kept where the user was after a swap, and a polite loading
announcement while the table loads."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import htmx_response, wait_settled

pytestmark = pytest.mark.browser


def tab_to(page: Page, selector: str, limit: int = 60) -> list[str]:
    """Press Tab until `selector` has focus; return what each press focused on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused, found = page.evaluate(
            "s => [document.activeElement.outerHTML.slice(0, 80), document.activeElement.matches(s)]",
            selector,
        )
        seen.append(focused)
        if found:
            return seen
    raise AssertionError(f"{selector} not reachable with Tab; focus went through: {seen}")


def assert_focus_ring(page: Page) -> None:
    """The focused element draws a solid outline of at least 2 px in the focus colour."""
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                           color: s.outlineColor, tag: document.activeElement.outerHTML.slice(0, 60)}; }"""
    )
    assert style["style"] == "solid" and style["width"] >= 2, style
    assert style["color"] not in ("transparent", "rgba(0, 0, 0, 0)"), style


def test_tab_reaches_search_sort_headers_and_pager_with_a_visible_focus_ring(browse, owner, line):
    # 25 rows a page: fewer links to Tab through on the way to the pager.
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/?per_page=25")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert_focus_ring(page)

    tab_to(page, "#id_q")
    assert_focus_ring(page)

    tab_to(page, "th.col-duration a")
    assert_focus_ring(page)
    with htmx_response(page):
        page.keyboard.press("Enter")
    wait_settled(page)
    expect(page.locator("th.col-duration")).to_have_attribute("aria-sort", "descending")
    # The header that was activated keeps focus: the user can press Enter again to reverse.
    expect(page.locator("th.col-duration a")).to_be_focused()
    with htmx_response(page):
        page.keyboard.press("Enter")
    wait_settled(page)
    expect(page.locator("th.col-duration")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("th.col-duration a")).to_be_focused()

    tab_to(page, "a[rel=next]", limit=200)
    assert_focus_ring(page)
    with htmx_response(page):
        page.keyboard.press("Enter")
    wait_settled(page)
    expect(page.locator(".range")).to_contain_text("Showing 26–50")
    expect(page.locator("a[rel=next]")).to_be_focused()
    browse.axe(page, "page 2 reached by keyboard")


def test_the_loading_indicator_is_announced_politely_only_while_loading(
    browse, owner, line, demo_upstream
):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    status = page.locator(".loading")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    # Idle: the live region exists (so a later change is announced) but says nothing.
    assert status.aria_snapshot() == "- status"

    demo_upstream.latency = 0.6  # long enough to look at the loading state
    page.get_by_label("Search", exact=True).fill("Zoë")
    # After the 300 ms typing pause the request starts and the text appears in the region.
    expect(status).to_match_aria_snapshot("- status: Loading…")
    expect(status.locator(".htmx-indicator")).to_be_visible()
    expect(page.locator("#results")).to_have_attribute("aria-busy", "true")
    browse.axe(page, "the table while loading")

    wait_settled(page)
    assert status.aria_snapshot() == "- status"
    expect(status.locator(".htmx-indicator")).to_be_hidden()
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_label("Search", exact=True)).to_be_focused()
