"""The browser harness catches what it promises to catch; otherwise every green browser test
would prove less than it claims."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SERIOUS, run_axe

pytestmark = pytest.mark.browser


def test_an_inline_script_is_refused_by_the_csp_and_reported(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    # The violation event is dispatched asynchronously: wait for its report, not a guess.
    with page.expect_console_message(lambda m: "CSP violation: script-src" in m.text):
        page.evaluate(
            """() => { const s = document.createElement("script");
                       s.textContent = "window.__inlineRan = true";
                       document.body.append(s); }"""
        )
    assert page.evaluate("() => window.__inlineRan") is None
    assert any("CSP violation: script-src" in p for p in browse.problems), browse.problems
    browse.problems.clear()


def test_a_console_error_is_reported(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    with page.expect_console_message(lambda m: m.text == "something broke"):
        page.evaluate("() => console.error('something broke')")
    assert any("something broke" in p for p in browse.problems), browse.problems
    browse.problems.clear()


def test_axe_finds_a_serious_violation_when_there_is_one(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/incoming/")
    page.evaluate(
        """() => { const img = document.createElement("img");  // no alt text
                   img.src = document.querySelector("link[rel=icon]").href;
                   document.getElementById("main").prepend(img); }"""
    )
    found = {v["id"] for v in run_axe(page) if v["impact"] in SERIOUS}
    assert "image-alt" in found
