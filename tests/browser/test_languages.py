"""Japanese in a real browser: a Japanese browser gets Japanese pages that pass axe and fit
the screen, and the switcher brings the reader back to the view they had, translated."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, htmx_response, wait_settled

pytestmark = pytest.mark.browser


def page_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_a_japanese_browser_gets_an_accessible_japanese_calls_page(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/", locale="ja-JP")

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("navigation", name="通話の種類")).to_be_visible()
    expect(page.locator("#results caption")).to_contain_text("着信の一覧 — Support phone")
    expect(page.get_by_role("combobox", name="言語")).to_have_value("ja")
    assert page_width(page) <= page.viewport_size["width"]
    browse.axe(page, "the incoming calls in Japanese")


def test_a_japanese_overview_and_phone_layout_fit_the_screen(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/missed/", locale="ja-JP", viewport=PHONE)
    expect(page.locator("#results caption")).to_contain_text("不在着信の一覧")
    assert page_width(page) <= PHONE["width"]
    browse.axe(page, "the missed calls in Japanese on a phone")

    page.goto(f"/lines/{line.pk}/overview/")
    expect(page.get_by_role("heading", name="不在着信率")).to_be_visible()
    wait_settled(page)
    assert page_width(page) <= PHONE["width"]
    browse.axe(page, "the overview in Japanese on a phone")


def test_the_switcher_returns_to_the_current_view_in_japanese(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # A view htmx pushed after the page loaded: the switcher must come back to it.
    with htmx_response(page):
        page.get_by_role("link", name="Last 30 days").click()
    wait_settled(page)
    expect(page).to_have_url(re.compile(r"from=.*&to="))
    view = page.url

    # Choosing is enough: no second button to press (it is there without JavaScript).
    expect(page.get_by_role("button", name="Change language")).to_be_hidden()
    with page.expect_navigation():
        page.get_by_role("combobox", name="Language").select_option("ja")

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert page.url == view
    expect(page.locator("#results caption")).to_contain_text("着信の一覧")
    # Remembered: a new page in the same browser stays Japanese.
    page.goto(f"/lines/{line.pk}/missed/")
    expect(page.locator("#results caption")).to_contain_text("不在着信の一覧")
    browse.axe(page, "the missed calls after switching to Japanese")


def test_without_javascript_the_button_changes_the_language(browse, owner, line):
    context = browse.context(owner, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/lines/{line.pk}/incoming/?q=a")
    page.get_by_role("combobox", name="Language").select_option("ja")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # nothing until pressed
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert page.url.endswith(f"/lines/{line.pk}/incoming/?q=a")
