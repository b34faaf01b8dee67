"""The Alerts page and its forms in Chromium: no console error or CSP violation, axe-clean
in light and dark with rules, a failing destination and an unknown outcome on screen; the
owner adds a rule with the keyboard-reachable form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.alerts.models import Delivery, DeliveryState, Destination
from tests.alerting import CHAT_TOKEN, chat_destination, spike_alert, spike_rule

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_line(line):
    chat = chat_destination(line, 9)
    Destination.objects.filter(pk=chat.pk).update(failures=3, last_error="error=500.")
    alert = spike_alert(spike_rule(line, chat, members=True))
    Delivery.objects.filter(alert=alert).update(
        state=DeliveryState.UNKNOWN, subject="Support phone: 5 missed calls", body="Body"
    )
    return line


@pytest.mark.parametrize(
    "path",
    [
        "/lines/{id}/alerts/",
        "/lines/{id}/alerts/rule/?kind=waiting",
        "/lines/{id}/alerts/destination/",
    ],
)
def test_the_alerts_screens_are_accessible(browse, owner, busy_line, path):
    page = browse.page(owner)
    response = page.goto(path.format(id=busy_line.pk))
    assert response is not None and response.status == 200
    expect(page.locator("main")).to_be_visible()
    assert CHAT_TOKEN not in page.content()
    if path == "/lines/{id}/alerts/":
        browse.screenshot(page, "alerts")  # the README's picture of the Alerts page
    browse.axe(page, path)


def test_the_owner_adds_a_spike_rule_and_sees_it_listed(browse, owner, line):
    page = browse.page(owner, path=f"/lines/{line.pk}/alerts/")
    page.get_by_role("link", name="Add a spike alert").click()
    page.get_by_label("Missed calls").fill("4")
    page.get_by_label("Within minutes").fill("20")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("More than 4 missed calls within 20 minutes")).to_be_visible()
    expect(page.get_by_text("Alert rule saved.")).to_be_visible()
