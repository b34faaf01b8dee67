"""Marking a missed call in a real browser: one dialog for the whole table with JavaScript,
the mark page and back without it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.followup.models import FollowUpMark
from tests.browser.conftest import marker_survived, query, set_marker

pytestmark = pytest.mark.browser


def test_the_dialog_marks_one_row_in_place_and_gives_focus_back(browse, owner, line):
    page = browse.page(owner, f"/lines/{line.pk}/missed/?per_page=25")
    set_marker(page)
    third = page.locator("#results tbody tr").nth(2)
    third.locator("a.mark").click()
    dialog = page.locator("#followup-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[type=radio]:checked")).to_have_count(0)  # nothing chosen
    browse.axe(page, "the follow-up dialog")
    dialog.get_by_label("Handled").check()
    dialog.get_by_label("Note").fill("Sent the invoice again")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    cell = third.locator("td.col-followup")
    expect(cell).to_contain_text("Handled")
    expect(cell).to_contain_text("Sent the invoice again")
    expect(cell.locator("a.mark")).to_be_focused()
    assert marker_survived(page)  # no page load
    assert FollowUpMark.objects.get().note == "Sent the invoice again"
    # Other rows are untouched; Escape closes the dialog without saving.
    page.locator("#results tbody tr").nth(0).locator("a.mark").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert FollowUpMark.objects.count() == 1
    assert not browse.problems, browse.problems


def test_without_javascript_the_mark_page_saves_and_returns_to_the_list(browse, owner, line):
    context = browse.context(owner, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/lines/{line.pk}/missed/?per_page=25&page=2")
    with page.expect_navigation():
        page.locator("#results tbody tr").first.locator("a.mark").click()
    page.get_by_label("Ignored").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert query(page) == {"per_page": "25", "page": "2"}
    expect(page.locator(".messages")).to_contain_text("Follow-up saved.")
    expect(page.locator("#results tbody tr").first.locator("td.col-followup")).to_contain_text(
        "Ignored"
    )
    assert FollowUpMark.objects.get().status == "ignored"
