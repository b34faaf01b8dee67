"""The login page in a real browser: logging in, a wrong password, and a session that
expires while htmx is loading a table."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import set_marker, wait_settled

pytestmark = pytest.mark.browser


def test_logging_in_through_the_form_opens_the_missed_calls_of_the_users_line(browse, owner, line):
    page = browse.page(path="/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_label("Username")).to_be_focused()
    browse.axe(page, "the login page")

    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("pw-olivia")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(rf"/lines/{line.pk}/missed/$"))
    expect(page.locator("#results caption")).to_contain_text("Missed calls — Support phone")
    expect(page.locator("#results tbody tr")).to_have_count(50)
    browse.axe(page, "the missed calls after logging in")


def test_a_wrong_password_says_so_and_keeps_the_username(browse, owner):
    page = browse.page(path="/accounts/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.get_by_label("Username")).to_have_value("olivia")
    browse.axe(page, "the login page with an error")


def test_an_expired_session_during_an_htmx_search_reloads_the_whole_page_on_the_login_form(
    browse, owner, line
):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    set_marker(page)
    page.context.clear_cookies(name="sessionid")

    with page.expect_navigation():
        page.get_by_label("Search", exact=True).fill("Zoë")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    wait_settled(page)
    assert page.evaluate("() => window.__noReload") is None  # a whole new page, not a swap
    assert page.locator("#results").count() == 0
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    browse.axe(page, "the login page after the session expired")
