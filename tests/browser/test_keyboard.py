"""Keyboard use of the call tables: everything reachable by Tab, operable by Enter, with a
visible focus ring, focus kept where the user was after a swap, and a polite loading
announcement while the table loads."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import htmx_response, query, wait_settled

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

    tab_to(page, ".pager-bottom a[rel=next]", limit=200)
    assert_focus_ring(page)
    with htmx_response(page):
        page.keyboard.press("Enter")
    wait_settled(page)
    expect(page.locator(".range")).to_contain_text("Showing 26–50")
    expect(page.locator("a[rel=next]").first).to_be_focused()  # the top pager's
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


# One Tab stop per row, and shortcuts -----------------------------------------------------


def tab_stops_per_row(page: Page) -> list[int]:
    return page.evaluate(
        """() => [...document.querySelectorAll('#results tbody tr')].map(tr =>
             [...tr.querySelectorAll('a[href], button, [tabindex]')]
               .filter(el => el.tabIndex >= 0).length)"""
    )


def focused_row(page: Page) -> int:
    """The index of the row holding focus, or -1."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#results tbody tr')]
             .findIndex(tr => tr.contains(document.activeElement))"""
    )


@pytest.mark.parametrize("kind", ["missed", "incoming", "all"])
def test_each_row_is_one_tab_stop_and_its_other_links_are_an_arrow_away(browse, owner, line, kind):
    path = f"/lines/{line.pk}/{kind}/?per_page=25"
    page = browse.page(owner, path=path)
    stops = tab_stops_per_row(page)
    assert stops and max(stops) == 1, stops
    # From the search box to Next at the bottom, the 25 rows take 25 presses (main took
    # three per row on Missed: the caller, "only this number", "Mark…").
    page.get_by_label("Search", exact=True).focus()
    in_rows = 0
    for _ in range(100):
        page.keyboard.press("Tab")
        in_rows += page.evaluate("() => !!document.activeElement.closest('#results tbody tr')")
        if page.evaluate("() => document.activeElement.matches('.pager-bottom a[rel=next]')"):
            break
    else:
        raise AssertionError("Next at the bottom not reached with Tab")
    assert in_rows == 25

    first = page.locator("#results tbody tr").first
    first.locator("a").first.focus()
    page.keyboard.press("ArrowRight")
    expect(first.locator("a.filter-number")).to_be_focused()
    if kind == "missed":
        page.keyboard.press("ArrowRight")
        expect(first.locator("a.mark")).to_be_focused()
        page.keyboard.press("ArrowLeft")
        expect(first.locator("a.filter-number")).to_be_focused()
    # Still one stop per row after htmx replaces the table.
    with htmx_response(page):
        page.get_by_label("Search", exact=True).fill("+32")
    wait_settled(page)
    assert max(tab_stops_per_row(page)) == 1


def test_shortcuts_search_move_between_rows_and_pages_and_show_their_help(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/?per_page=25")
    search = page.get_by_label("Search", exact=True)

    page.keyboard.press("j")
    assert focused_row(page) == 0
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_row(page) == 2
    page.keyboard.press("k")
    assert focused_row(page) == 1
    assert_focus_ring(page)

    with htmx_response(page):
        page.keyboard.press("n")
    wait_settled(page)
    expect(page.locator(".range")).to_contain_text("Showing 26–50")
    with htmx_response(page):
        page.keyboard.press("p")
    wait_settled(page)
    expect(page.locator(".range")).to_contain_text("Showing 1–25")

    page.keyboard.press("/")
    expect(search).to_be_focused()
    assert search.input_value() == ""  # the slash itself is not typed

    page.evaluate("() => document.activeElement.blur()")  # in the search box, ? is typed
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next or previous page")
    browse.axe(page, "the keyboard shortcuts help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_shortcuts_never_fire_while_typing_or_with_a_modifier(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/?per_page=25")
    search = page.get_by_label("Search", exact=True)
    search.focus()
    with htmx_response(page):
        page.keyboard.type("jkn/?")
    wait_settled(page)
    expect(search).to_have_value("jkn/?")
    expect(search).to_be_focused()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    assert "page" not in query(page)

    page.get_by_label("Per page").focus()  # a select is typing too
    page.keyboard.press("n")
    expect(page.get_by_label("Per page")).to_be_focused()

    page.locator("body").focus()
    page.evaluate("() => document.activeElement.blur()")
    for chord in ("Alt+j", "Control+k", "Meta+n", "Alt+n"):
        page.keyboard.press(chord)
    assert focused_row(page) == -1
    assert "page" not in query(page)


def test_a_row_added_by_script_is_one_tab_stop_too(browse, owner, line):
    """Rows can arrive outside an htmx swap (the live table inserts pushed calls)."""
    page = browse.page(owner, path=f"/lines/{line.pk}/missed/?per_page=25")
    page.evaluate(
        """() => { const body = document.querySelector('#results tbody');
                   const row = body.querySelector('tr').cloneNode(true);
                   row.querySelectorAll('[tabindex]').forEach(el => el.removeAttribute('tabindex'));
                   body.prepend(row); }"""
    )
    page.wait_for_function(
        """() => [...document.querySelector('#results tbody tr').querySelectorAll('a')]
             .filter(a => a.tabIndex >= 0).length === 1"""
    )
    assert max(tab_stops_per_row(page)) == 1
