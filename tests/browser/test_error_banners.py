"""Each upstream failure the demo can produce shows one readable, accessible banner."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.smsmobileapi import errors
from tests.conftest import make_line

pytestmark = pytest.mark.browser

# (demo key, tab that fails for it, the error the banner is for)
FAILURES = [
    ("demo-invalid", "missed", errors.InvalidApiKey),
    ("demo-expired", "incoming", errors.SubscriptionExpired),  # missed still works for it
    ("demo-failing", "outgoing", errors.ProviderServerError),
    ("demo-ratelimited", "missed", errors.RateLimited),
    ("demo-broken", "incoming", errors.ProviderServerError),  # 502 HTML page
]


@pytest.mark.parametrize(("key", "kind", "error"), FAILURES, ids=[f[0] for f in FAILURES])
def test_an_upstream_failure_shows_its_banner_with_the_action_that_helps(
    browse, owner, key, kind, error
):
    line = make_line(owner, key)
    page = browse.page(owner, path=f"/lines/{line.pk}/{kind}/")

    banner = page.locator(f"#results [data-error='{error.code}']")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text(str(error.user_message))
    assert key not in page.content()  # the key is never shown, not even a demo one
    expect(page.locator("#results table")).to_have_count(0)
    try_again = banner.get_by_role("link", name="Try again")
    expect(try_again).to_have_count(1 if error.transient else 0)
    browse.axe(page, f"the {error.code} banner")
    if key == "demo-failing":
        browse.screenshot(page, "error")
