"""Light and dark follow the system's colour scheme; the README's screenshots come from here."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def luminance(page: Page, selector: str, prop: str) -> float:
    """Relative brightness (0–1) of a computed colour, near enough to tell light from dark."""
    rgb = page.locator(selector).first.evaluate(
        f"el => getComputedStyle(el).{prop}.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number)"
    )
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_light_scheme_is_dark_text_on_a_light_page(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    assert luminance(page, "body", "backgroundColor") > 0.9
    assert luminance(page, "body", "color") < 0.2
    expect(page.get_by_text("Dates and page size")).to_be_hidden()  # folded only on phones
    expect(page.get_by_label("From", exact=True)).to_be_visible()
    browse.axe(page, "the incoming calls in light")
    browse.screenshot(page, "light")


def test_dark_scheme_follows_the_system_preference(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/", color_scheme="dark")
    assert luminance(page, "body", "backgroundColor") < 0.1
    assert luminance(page, "body", "color") > 0.8
    assert luminance(page, "table.calls", "backgroundColor") < 0.2
    # Form controls follow too (color-scheme), not white boxes on a dark page.
    assert luminance(page, "#id_q", "backgroundColor") < 0.2
    browse.axe(page, "the incoming calls in dark")
    browse.screenshot(page, "dark")
