"""Time zones in a real browser: a Tokyo browser sees Tokyo times from its first visit,
switches to UTC in one click, and the choice outlives the browser's own zone."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from dashboard.accounts.models import Profile
from tests.browser.conftest import wait_settled

pytestmark = pytest.mark.browser


def first_time_offset(page) -> str:
    """The UTC offset the first row's time is written in (its `datetime`)."""
    stamp = page.locator("#results tbody td.col-when time").first.get_attribute("datetime")
    return datetime.fromisoformat(stamp).strftime("%z")


def test_a_first_visit_shows_the_browsers_zone_and_one_click_switches_it(browse, owner, line):
    page = browse.page(owner, timezone_id="Asia/Tokyo")
    with page.expect_navigation():  # the first page, drawn in UTC, reloads once in Tokyo's
        page.goto(f"/lines/{line.pk}/incoming/")
    wait_settled(page)
    switch = page.locator(".time-zone-switch")
    expect(switch).to_contain_text("Times in Asia/Tokyo")
    assert first_time_offset(page) == "+0900"
    browse.screenshot(page, "time-zone")  # the README's picture of the switch
    assert not Profile.objects.filter(user=owner).exclude(time_zone="").exists()

    # Later visits need no reload: the zone is known.
    page.reload()
    wait_settled(page)
    expect(switch).to_contain_text("Times in Asia/Tokyo")

    switch.get_by_role("button", name="Show in UTC").click()
    wait_settled(page)
    expect(page.locator(".time-zone-switch")).to_contain_text("Times in UTC")
    assert first_time_offset(page) == "+0000"
    assert page.url.endswith(f"/lines/{line.pk}/incoming/")  # back where the user was
    assert Profile.objects.get(user=owner).time_zone == "UTC"

    # The choice wins over the browser's zone, and the browser's zone is one click away.
    page.reload()
    wait_settled(page)
    expect(page.locator(".time-zone-switch")).to_contain_text("Times in UTC")
    page.get_by_role("button", name="Use this browser’s zone (Asia/Tokyo)").click()
    wait_settled(page)
    expect(page.locator(".time-zone-switch")).to_contain_text("Times in Asia/Tokyo")
    assert Profile.objects.get(user=owner).time_zone == ""
    browse.axe(page, "the calls with the time-zone switch")


def test_the_zone_picker_finds_a_zone_by_typing_part_of_it(browse, owner):
    page = browse.page(owner, path="/accounts/preferences/")
    box = page.get_by_label("Time zone for call times")
    box.fill("Asia/Tok")
    # The datalist holds every zone; the browser filters it as one types.
    options = page.locator("#time-zone-names option[value='Asia/Tokyo']")
    assert options.count() == 1
    box.fill("new york")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("times are shown in America/New_York")
    assert Profile.objects.get(user=owner).time_zone == "America/New_York"
    expect(page.get_by_label("Time zone for call times")).to_have_value("America/New_York")
    browse.axe(page, "preferences with the zone picker")
