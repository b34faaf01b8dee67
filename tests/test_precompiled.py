"""Queries compiled once (dashboard/ops/precompiled.py) and the per-request reads built on
them: the session, the user with their time zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from dashboard.accounts.models import Profile, user_time_zone
from dashboard.accounts.sso import PasswordBackend
from dashboard.ops.precompiled import Precompiled


def by_name_from(name: str, first_id: int):
    return User.objects.filter(username=name, pk__gte=first_id).annotate(
        zone=F("profile__time_zone")
    )


def test_a_precompiled_query_returns_what_the_orm_returns(db):
    olivia = User.objects.create_user("olivia")
    Profile.objects.create(user=olivia, time_zone="Asia/Tokyo")
    sam = User.objects.create_user("sam")
    query = Precompiled(User, by_name_from, name="stand-in-name", first_id=-730_194_700)
    found = query.first(name="olivia", first_id=0)
    assert (found.pk, found.username, found.zone) == (olivia.pk, "olivia", "Asia/Tokyo")
    assert found.zone == by_name_from("olivia", 0).get().zone
    assert query.first(name="olivia", first_id=olivia.pk + 1) is None
    assert query.first(name="sam", first_id=sam.pk).zone is None  # no profile
    with pytest.raises(TypeError):
        query.first(name="olivia")


def test_a_value_without_a_stand_in_is_refused_when_compiling(db):
    fixed = Precompiled(
        User, lambda name: User.objects.filter(username=name, email="o@example.com"), name="x"
    )
    with pytest.raises(ImproperlyConfigured, match="no stand-in"):
        fixed.first(name="olivia")
    with pytest.raises(ValueError):
        Precompiled(User, by_name_from, name=-730_194_700, first_id=-730_194_700)
    with pytest.raises(ValueError, match="stand-in"):
        Precompiled(User, by_name_from, name="x", first_id=1)
    with pytest.raises(ValueError, match="stand-in"):
        Precompiled(User, by_name_from, name="x", first_id=True)


def test_the_login_backend_loads_the_user_with_the_profiles_time_zone(db, settings):
    settings.TIME_ZONE = "Europe/Brussels"
    olivia = User.objects.create_user("olivia")
    loaded = PasswordBackend().get_user(olivia.pk)
    assert loaded == olivia and user_time_zone(loaded) == "Europe/Brussels"  # no profile yet
    Profile.objects.create(user=olivia, time_zone="Asia/Tokyo")
    assert user_time_zone(PasswordBackend().get_user(olivia.pk)) == "Asia/Tokyo"
    olivia.is_active = False
    olivia.save()
    assert PasswordBackend().get_user(olivia.pk) is None
    assert PasswordBackend().get_user(-5) is None


def test_an_expired_session_signs_nobody_in(client, owner, line):
    client.force_login(owner)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
    assert client.get(url).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
