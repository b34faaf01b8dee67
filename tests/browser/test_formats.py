"""The table times' tooltips, written by app.js, use the server's full-timestamp format in
both languages (dashboard/formats.py), not a format of their own."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import wait_settled

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "pattern"),
    [
        ("en-GB", r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2} \(UTC\)$"),
        ("ja-JP", r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2} \(UTC\)$"),
    ],
)
def test_a_table_times_tooltip_is_the_full_timestamp(browse, owner, line, locale, pattern):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/", locale=locale)
    wait_settled(page)
    first = page.locator("#results tbody td.col-when time").first
    first.hover()
    title = first.get_attribute("title")
    assert title and re.match(pattern, title), title
    stamp = first.get_attribute("datetime")  # the same moment: day, hour and seconds
    assert str(int(stamp[8:10])) in title and stamp[11:19] in title
