"""With JavaScript off the dashboard is plain forms and links: it still filters, sorts and
pages, one full page load at a time."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import first_name_word, query, rows

pytestmark = pytest.mark.browser


def test_without_javascript_the_apply_button_filters_and_the_pager_pages(browse, owner, line):
    context = browse.context(owner, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/lines/{line.pk}/incoming/?per_page=25")
    first_page = rows(page)
    term = first_name_word(page)

    page.get_by_label("Search", exact=True).fill(term)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert query(page).get("q") == term
    found = rows(page)
    assert found and found != first_page
    assert all(term.lower() in row.lower() for row in found)

    page.goto(f"/lines/{line.pk}/incoming/?per_page=25")
    with page.expect_navigation():
        page.locator(".pager-bottom a[rel=next]").click()
    assert query(page) == {"per_page": "25", "page": "2"}
    expect(page.locator(".range")).to_contain_text("Showing 26–50")
    second_page = rows(page)
    assert len(second_page) == 25 and not set(second_page) & set(first_page)

    with page.expect_navigation():
        page.locator("th.col-duration a").click()
    assert query(page)["sort"] == "duration"
    expect(page.locator("th.col-duration")).to_have_attribute("aria-sort", "descending")

    with page.expect_navigation():
        page.get_by_role("link", name="Last 30 days").click()
    assert "from" in query(page) and "to" in query(page)
    browse.axe_without_scripts(owner, page.url, "filtered without JavaScript")
