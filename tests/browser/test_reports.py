"""The overview and the CSV export in a real browser: the lazy load under the strict CSP,
accessibility in light and dark, and the download of exactly the table's view."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

RANGE = "?from=2026-10-22&to=2026-11-20"


def test_the_overview_loads_lazily_and_is_accessible_in_light_and_dark(browse, owner, line):
    page = browse.context(owner).new_page()
    page.goto(f"/lines/{line.pk}/overview/{RANGE}")
    # The shell shows its progress line, then htmx swaps in the computed overview.
    expect(page.locator(".overview")).to_be_visible()
    expect(page.locator("svg.chart[role=img]")).to_be_visible()
    expect(page.locator(".overview-summary")).to_contain_text("(30 days, times in UTC)")
    expect(page.locator(".heatmap tbody tr")).to_have_count(7)
    browse.axe(page, "the overview")
    page.get_by_text("Show as a table").click()
    expect(page.locator(".chart-data tbody tr")).to_have_count(30)
    browse.screenshot(page, "overview-desktop")
    page.emulate_media(color_scheme="dark")
    browse.screenshot(page, "overview-dark")


def test_the_overview_on_a_phone_has_no_sideways_scrolling_page(browse, owner, line):
    page = browse.context(owner, viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"/lines/{line.pk}/overview/{RANGE}")
    expect(page.locator("svg.chart")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    browse.screenshot(page, "overview-phone")


def test_the_export_link_downloads_the_tables_view(browse, owner, line):
    page = browse.context(owner).new_page()
    page.goto(f"/lines/{line.pk}/incoming/?from=2026-11-20&to=2026-11-20&sort=duration&dir=asc")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("support-phone-incoming-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header[0] == "Time (UTC)" and rows
    durations = [int(r[4]) for r in rows]
    assert durations == sorted(durations)
