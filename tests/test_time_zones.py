"""Time zones: the browser's zone on first visit, the user's choice over it, a typed zone
read as people write it, and every zone name that arrives checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from dashboard.accounts.models import Profile
from dashboard.accounts.zones import BROWSER_ZONE_COOKIE, ViewerZone, read_time_zone
from tests.test_call_list import only_request, url

PREFERENCES = "/accounts/preferences/"
BROWSER_ZONE = "/accounts/browser-time-zone/"


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Asia/Tokyo", "Asia/Tokyo"),
        ("asia/tokyo", "Asia/Tokyo"),
        ("  Europe/Brussels ", "Europe/Brussels"),
        ("Tokyo", "Asia/Tokyo"),
        ("new york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("UTC", "UTC"),
        ("Mars/Olympus", None),
        ("", None),
        ("../../etc/passwd", None),
        ("A" * 500, None),
        (None, None),
        (["Asia/Tokyo"], None),
    ],
)
def test_a_typed_zone_is_read_as_people_write_it_and_nothing_else(typed, zone):
    assert read_time_zone(typed) == zone


def test_the_choice_wins_then_the_browser_then_the_site_default(settings):
    settings.TIME_ZONE = "Europe/Brussels"
    assert ViewerZone(chosen="", browser="", default="UTC").name == "UTC"
    assert ViewerZone(chosen="", browser="Asia/Tokyo", default="UTC").name == "Asia/Tokyo"
    assert ViewerZone(chosen="UTC", browser="Asia/Tokyo", default="UTC").name == "UTC"


def test_without_a_choice_times_follow_the_zone_the_browser_reported(
    owner_client, owner, line, demo_upstream
):
    owner_client.cookies[BROWSER_ZONE_COOKIE] = "Asia/Tokyo"
    page = owner_client.get(url(line, "incoming", "?from=2026-11-20&to=2026-11-20"))
    _, params = only_request(demo_upstream)
    # The day is Tokyo's: 2026-11-20 00:00 in Tokyo is 15:00 UTC the day before.
    assert params["date_from_ms"] == str(
        int(datetime(2026, 11, 19, 15, tzinfo=UTC).timestamp() * 1000)
    )
    html = page.content.decode()
    assert "Times in Asia/Tokyo" in html
    assert "Show in UTC" in html  # the one-click switch
    assert "data-zone-follows-browser" in html and 'data-browser-zone="Asia/Tokyo"' in html


def test_the_users_choice_wins_over_the_browsers_zone_and_offers_it_back(owner_client, owner, line):
    Profile.objects.create(user=owner, time_zone="Europe/Brussels")
    owner_client.cookies[BROWSER_ZONE_COOKIE] = "Asia/Tokyo"
    html = owner_client.get(url(line, "incoming")).content.decode()
    assert "Times in Europe/Brussels" in html
    assert "Use this browser’s zone (Asia/Tokyo)" in html
    assert "data-zone-follows-browser" not in html


@pytest.mark.parametrize("cookie", ["Mars/Olympus", "../x", "Asia/Tokyo\x00", "x" * 300, ""])
def test_a_forged_browser_zone_cookie_is_ignored(owner_client, line, cookie):
    owner_client.cookies[BROWSER_ZONE_COOKIE] = cookie
    response = owner_client.get(url(line, "incoming"))
    assert response.status_code == 200
    assert "Times in UTC" in response.content.decode()


def test_the_browser_reports_its_zone_into_a_cookie(owner_client):
    response = owner_client.post(BROWSER_ZONE, {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 204
    cookie = response.cookies[BROWSER_ZONE_COOKIE]
    assert cookie.value == "Asia/Tokyo"
    assert cookie["httponly"] and cookie["max-age"] > 30 * 24 * 3600
    assert not Profile.objects.exists()  # the browser's zone is not the user's choice


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "<script>", "x" * 300])
def test_a_bad_browser_zone_is_refused_and_stores_nothing(owner_client, zone):
    response = owner_client.post(BROWSER_ZONE, {"time_zone": zone})
    assert response.status_code == 400
    assert BROWSER_ZONE_COOKIE not in response.cookies
    assert "not a time zone" in response.content.decode()


def test_the_browser_zone_needs_a_post_and_a_login(owner_client):
    assert owner_client.get(BROWSER_ZONE).status_code == 405
    response = Client().post(BROWSER_ZONE, {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302 and BROWSER_ZONE_COOKIE not in response.cookies


def test_preferences_offer_every_zone_in_a_searchable_list(owner_client):
    html = owner_client.get(PREFERENCES).content.decode()
    assert 'list="time-zone-names"' in html
    assert '<datalist id="time-zone-names">' in html
    assert '<option value="Asia/Tokyo">' in html and '<option value="America/New_York">' in html


def test_preferences_read_a_city_as_its_zone(owner_client, owner):
    response = owner_client.post(PREFERENCES, {"time_zone": "tokyo"})
    assert response.status_code == 302
    assert Profile.objects.get(user=owner).time_zone == "Asia/Tokyo"
    assert "times are shown in Asia/Tokyo" in owner_client.get(PREFERENCES).content.decode()


def test_preferences_refuse_an_unknown_zone_in_plain_words_and_keep_the_old_one(
    owner_client, owner
):
    Profile.objects.create(user=owner, time_zone="Europe/Brussels")
    response = owner_client.post(PREFERENCES, {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "“Mars/Olympus” is not a time zone." in response.content.decode()
    assert Profile.objects.get(user=owner).time_zone == "Europe/Brussels"


def test_an_empty_zone_means_follow_the_browser(owner_client, owner, line):
    Profile.objects.create(user=owner, time_zone="Europe/Brussels")
    owner_client.cookies[BROWSER_ZONE_COOKIE] = "Asia/Tokyo"
    owner_client.post(PREFERENCES, {"time_zone": ""})
    assert Profile.objects.get(user=owner).time_zone == ""
    assert "Times in Asia/Tokyo" in owner_client.get(url(line, "incoming")).content.decode()


def test_the_one_click_switch_saves_and_returns_to_the_page(owner_client, owner, line):
    page = url(line, "incoming", "?q=12&page=2")
    response = owner_client.post(PREFERENCES, {"time_zone": "UTC", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert Profile.objects.get(user=owner).time_zone == "UTC"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_the_switch_never_redirects_off_the_site(owner_client, target):
    response = owner_client.post(PREFERENCES, {"time_zone": "UTC", "next": target})
    assert response.status_code == 302 and response["Location"] == PREFERENCES
