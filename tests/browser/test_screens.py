"""Every other screen, as it lands: it loads without console errors or CSP violations and
axe-core finds no serious or critical violation in light or dark."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Screens of a line its owner can open; {id} is the line's.
OWNER_SCREENS = [
    "/accounts/preferences/",
    "/lines/",
    "/lines/new/",
    "/lines/{id}/settings/",
    "/lines/{id}/key/",
    "/lines/{id}/share/",
    "/lines/{id}/delete/",
    "/lines/{id}/audit/",
    "/lines/{id}/all/",
    "/lines/{id}/inbox/",
]


@pytest.mark.parametrize("path", OWNER_SCREENS)
def test_each_screen_is_accessible_in_light_and_dark(browse, owner, line, path):
    page = browse.page(owner)
    response = page.goto(path.format(id=line.pk))
    assert response is not None and response.status == 200
    expect(page.locator("main")).to_be_visible()
    browse.axe(page, path)


def test_a_callers_page_is_accessible_in_light_and_dark(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    page.locator("#results td.col-number a").first.click()
    expect(page).to_have_url(re.compile(r"/lines/\d+/callers/"))
    browse.axe(page, "a caller's page")


def test_the_no_lines_page_is_accessible(browse, stranger):
    page = browse.page(stranger, path="/")
    expect(page.get_by_role("heading", name="No lines yet")).to_be_visible()
    browse.axe(page, "the no-lines page")
