"""Search as people type, in the browser: a Belgian number typed in its national,
grouped form finds the calls stored in E.164, and the rows mark the matched digits."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import htmx_response, query, rows, wait_settled

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_national_grouped_number_finds_its_calls_and_the_rows_mark_it(
    browse, owner, line, scheme
):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/", color_scheme=scheme)
    shown = page.locator("#results td.col-number a:not(.filter-number)").all_inner_texts()
    e164 = next(n for n in shown if re.fullmatch(r"\+32 4\d\d \d\d \d\d \d\d", n))
    typed = "0" + e164.removeprefix("+32 ")  # "0486 39 86 74", as a Belgian writes it

    search = page.get_by_label("Search", exact=True)
    search.click()
    with htmx_response(page):
        page.keyboard.type(typed)
    wait_settled(page)

    assert query(page) == {"q": typed}
    expect(search).to_have_value(typed)  # kept as typed
    found = rows(page)
    assert found and all(e164 in row for row in found)
    marks = page.locator("#results td.col-number mark").all_inner_texts()
    assert marks and set(marks) == {e164.removeprefix("+32 ")}
    browse.axe(page, f"a number search with its matches marked ({scheme})")  # mark contrast
    browse.screenshot(page, f"search-number-{scheme}")
