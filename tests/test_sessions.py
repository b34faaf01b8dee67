"""Sessions read from the shared cache (accounts/sessions.py): a cached page costs no
session query, and still nothing a user relies on to sign out or be shut out changes."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.accounts.sessions import SessionStore
from tests.servers import refused_port

pytestmark = pytest.mark.django_db


def incoming(line) -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})


def signed_in(client: Client, user, password: str) -> str:
    assert client.login(username=user.username, password=password)
    return client.cookies["sessionid"].value


def test_the_session_is_kept_in_the_cache_and_the_database(client, shared_user, line):
    key = signed_in(client, shared_user, "pw-sam")
    assert Session.objects.filter(session_key=key).exists()
    assert cache.get(SessionStore.cache_key_prefix + key) is not None
    assert client.get(incoming(line)).status_code == 200


def test_logging_out_ends_the_session_even_when_its_cookie_is_replayed(client, shared_user, line):
    key = signed_in(client, shared_user, "pw-sam")
    assert client.get(incoming(line)).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert cache.get(SessionStore.cache_key_prefix + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies["sessionid"] = key
    response = replay.get(incoming(line))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_signing_in_rotates_the_key_and_the_old_one_signs_nobody_in(client, shared_user, line):
    before = SessionStore()
    before["scratch"] = "anonymous"
    before.save()  # an anonymous visitor's session, cached
    old = before.session_key
    assert cache.get(SessionStore.cache_key_prefix + old) is not None
    client.cookies["sessionid"] = old
    form = {"username": "sam", "password": "pw-sam"}
    assert client.post(reverse("login"), form).status_code == 302  # the sign-in form
    assert client.cookies["sessionid"].value != old
    assert cache.get(SessionStore.cache_key_prefix + old) is None
    assert client.get(incoming(line)).status_code == 200
    replay = Client()
    replay.cookies["sessionid"] = old
    assert replay.get(incoming(line)).status_code == 302


def test_revoked_access_takes_effect_on_the_next_cached_request(client, shared_user, line):
    signed_in(client, shared_user, "pw-sam")
    url = incoming(line)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200  # cached now
    line.shared_with_users.remove(shared_user)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_a_deactivated_user_is_signed_out_on_the_next_request(client, shared_user, line):
    signed_in(client, shared_user, "pw-sam")
    assert client.get(incoming(line)).status_code == 200
    shared_user.is_active = False
    shared_user.save()
    response = client.get(incoming(line))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_changed_password_signs_out_other_sessions_at_once(client, shared_user, line):
    signed_in(client, shared_user, "pw-sam")
    assert client.get(incoming(line)).status_code == 200
    shared_user.set_password("a-new-password-for-sam")
    shared_user.save()
    assert client.get(incoming(line)).status_code == 302


def test_an_expired_session_is_gone_from_the_cache_too(client, shared_user, line, settings):
    settings.SESSION_COOKIE_AGE = 1
    signed_in(client, shared_user, "pw-sam")
    assert client.get(incoming(line)).status_code == 200
    time.sleep(1.2)  # the session's own age: no clock to patch in both stores
    response = client.get(incoming(line))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_broken_cache_keeps_people_signed_in_from_the_database(client, shared_user, line):
    signed_in(client, shared_user, "pw-sam")
    with refused_port() as refused:
        broken = {
            "default": {
                "BACKEND": "dashboard.ops.redis_cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{refused}/0",
            }
        }
        with override_settings(CACHES=broken):
            page = client.get(incoming(line))
            client.post(reverse("logout"))
            after = client.get(incoming(line))
    assert page.status_code == 200 and "<tbody>" in page.content.decode()
    assert after.status_code == 302  # logged out, though the cache could not be told
