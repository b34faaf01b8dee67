"""What every request reads before its view runs: the session (the cache, else the
database) and the user with their profile's time zone (the login backends)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from dashboard.accounts.models import Profile, user_time_zone
from dashboard.accounts.sso import PasswordBackend


def test_the_login_backend_loads_the_user_with_the_profiles_time_zone(
    db, settings, django_assert_num_queries
):
    settings.TIME_ZONE = "Europe/Brussels"
    olivia = User.objects.create_user("olivia")
    loaded = PasswordBackend().get_user(olivia.pk)
    assert loaded == olivia and user_time_zone(loaded) == "Europe/Brussels"  # no profile yet
    Profile.objects.create(user=olivia, time_zone="Asia/Tokyo")
    with django_assert_num_queries(1):  # the profile comes with the user
        assert user_time_zone(PasswordBackend().get_user(olivia.pk)) == "Asia/Tokyo"
    olivia.is_active = False
    olivia.save()
    assert PasswordBackend().get_user(olivia.pk) is None
    assert PasswordBackend().get_user(-5) is None


def test_an_expired_session_signs_nobody_in(client, owner, line):
    client.force_login(owner)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
    assert client.get(url).status_code == 200
    # Expired in the database, and its cached copy gone (evicted, or expired with it:
    # tests/test_sessions.py waits for a real expiry).
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.clear()
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
