"""Rendered views (calls/cache.py ViewCache): a table screen's list is drawn once and shared
by everyone who may see the line, never shown to anyone else, never older than a mark, a
Refresh or a webhook's "new calls" (mark_views_stale), and never keyed by the API key."""

from __future__ import annotations

import pickle
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from dashboard.accounts.models import Profile
from dashboard.calls.cache import StoredView, mark_views_stale
from dashboard.lines import crypto
from dashboard.smsmobileapi.errors import ProviderServerError
from dashboard.smsmobileapi.records import CallKind
from tests.conftest import SUPPORT_KEY
from tests.fake_provider import T0, call, provider

NUMBER = "+32470123456"


def calls_url(line, kind: str, query: str = "") -> str:
    if kind == "all":
        return reverse("line-timeline", kwargs={"line_id": line.pk}) + query
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind}) + query


def history():
    return {
        SUPPORT_KEY: [
            call("missed", "0470123456", T0, name="Alice"),
            call("incoming", "0470999999", T0, name="Bob"),
            call("outgoing", "0470888888", T0, name="Carol"),
        ]
    }


@pytest.mark.parametrize("kind", ["missed", "incoming", "outgoing", "all"])
def test_a_second_viewer_gets_the_stored_list_without_asking_the_provider(
    client, line, owner, shared_user, kind
):
    with provider(history()) as fake:
        client.force_login(owner)
        first = client.get(calls_url(line, kind))
        asked = len(fake.queries)
        client.force_login(shared_user)
        second = client.get(calls_url(line, kind), headers={"HX-Request": "true"})

    assert first.status_code == second.status_code == 200
    assert asked >= 1 and len(fake.queries) == asked  # the second view asked nothing
    assert isinstance(second.context["page"], StoredView)  # nor drew anything
    assert second.context["listing"] == first.context["listing"]
    assert "<tbody>" in second.context["listing"]
    assert second.context["listing"] in second.content.decode()


def test_a_stranger_never_gets_a_stored_list(client, line, owner, stranger):
    with provider(history()):
        client.force_login(owner)
        assert "Alice" in client.get(calls_url(line, "missed")).content.decode()
        client.force_login(stranger)
        response = client.get(calls_url(line, "missed"))

    assert response.status_code == 404
    assert "Alice" not in response.content.decode()


def test_a_mark_shows_at_once_to_someone_who_saw_the_list_before(client, line, owner, shared_user):
    with provider(history()):
        client.force_login(shared_user)
        before = client.get(calls_url(line, "missed")).content.decode()
        timeline_before = client.get(calls_url(line, "all")).content.decode()
        client.force_login(owner)
        marked = client.post(
            reverse("followup-mark", kwargs={"line_id": line.pk}),
            {"number": NUMBER, "called_at": T0.isoformat(), "status": "handled", "note": "ok"},
        )
        client.force_login(shared_user)
        after = client.get(calls_url(line, "missed")).content.decode()
        timeline_after = client.get(calls_url(line, "all")).content.decode()

    assert marked.status_code == 302
    assert "badge-handled" not in before and "badge-handled" not in timeline_before
    assert "badge-handled" in after and "badge-handled" in timeline_after


def test_a_refresh_by_one_viewer_is_what_the_others_see_next(client, line, owner, shared_user):
    calls = history()
    with provider(calls):
        client.force_login(shared_user)
        client.get(calls_url(line, "incoming"))
        calls[SUPPORT_KEY].append(call("incoming", "0470777777", T0, name="Dora"))
        client.force_login(owner)
        refreshed = client.get(calls_url(line, "incoming", "?refresh=1"))
        client.force_login(shared_user)
        later = client.get(calls_url(line, "incoming")).content.decode()

    assert "Dora" in refreshed.content.decode()
    assert "Dora" in later


@pytest.mark.parametrize("kind,screens", [("incoming", ["incoming", "missed", "all"])])
def test_new_calls_said_by_a_webhook_reach_every_screen_showing_that_kind(
    owner_client, line, kind, screens
):
    calls = history()
    with provider(calls) as fake:
        for screen in screens:
            owner_client.get(calls_url(line, screen))
        calls[SUPPORT_KEY].append(
            call("incoming", "0470123456", T0 + timedelta(hours=1), name="Alice again")
        )
        asked = len(fake.queries)
        mark_views_stale(line, CallKind(kind))  # what the webhook receiver calls
        pages = {s: owner_client.get(calls_url(line, s)).content.decode() for s in screens}

    assert len(fake.queries) > asked  # the provider was asked again, within the TTL
    assert "Alice again" in pages["incoming"] and "Alice again" in pages["all"]
    # The missed call from that number now reads "answered later".
    assert "badge-answered" in pages["missed"]


def test_a_follow_up_change_redraws_without_asking_the_provider(owner_client, line):
    with provider(history()) as fake:
        owner_client.get(calls_url(line, "missed"))
        asked = len(fake.queries)
        mark_views_stale(line, CallKind.MISSED, calls_changed=False)
        response = owner_client.get(calls_url(line, "missed"))

    assert response.context["page"].__class__.__name__ == "CallPage"  # drawn again
    assert len(fake.queries) == asked  # from the cached answers


def test_viewers_in_another_zone_or_language_get_their_own_list(client, line, owner, shared_user):
    Profile.objects.create(user=shared_user, time_zone="Asia/Tokyo")
    with provider(history()):
        client.force_login(owner)
        brussels = client.get(calls_url(line, "incoming")).context["listing"]
        client.force_login(shared_user)
        tokyo = client.get(calls_url(line, "incoming")).context["listing"]
        japanese = client.get(
            calls_url(line, "incoming"), headers={"Accept-Language": "ja"}
        ).context["listing"]
    translation.deactivate()

    assert "T09:00:00+00:00" in brussels  # the site's zone (UTC in tests)
    assert "T18:00:00+09:00" in tokyo and "T18:00:00+09:00" in japanese
    assert "Duration" in tokyo and "Duration" not in japanese


def test_a_list_drawn_while_a_kind_failed_is_not_stored(owner_client, line, monkeypatch):
    # The missed tab's "answered later" could not read incoming calls: the banner saying
    # so must stay on every view of it, so the list is drawn again each time.
    with provider(history()) as fake:
        answer = fake.list_calls

        def incoming_fails(api_key, kind, query):
            if kind is CallKind.INCOMING:
                raise ProviderServerError(status=500)
            return answer(api_key, kind, query)

        monkeypatch.setattr(fake, "list_calls", incoming_fails)
        first = owner_client.get(calls_url(line, "missed")).content.decode()
        second = owner_client.get(calls_url(line, "missed"))

    assert 'data-later="unreadable"' in first
    assert 'data-later="unreadable"' in second.content.decode()
    assert not isinstance(second.context["page"], StoredView)


def test_stored_views_hold_neither_the_key_nor_its_echo(line, owner, shared_user, client):
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"views-{uuid.uuid4().hex}",
            }
        }
    ):
        client.force_login(owner)
        for kind in ("missed", "incoming", "outgoing", "all"):
            client.get(calls_url(line, kind))
        mark_views_stale(line, CallKind.INCOMING)
        stored = dict(caches["default"]._cache)

    views = [key for key in stored if ":views:" in key]
    assert len(views) >= 4 + 3  # four lists and three generations
    for key, value in stored.items():
        assert SUPPORT_KEY not in key
        if ":views:" in key or ":calls:" in key:
            assert crypto.fingerprint(SUPPORT_KEY) in key
        assert SUPPORT_KEY not in repr(pickle.loads(value))  # noqa: S301 - our own test data


def test_a_replaced_key_shows_nothing_of_the_old_one(owner_client, line):
    other = {"demo-other": [call("incoming", "0470555555", T0, name="Eve")], **history()}
    with provider(other):
        assert "Bob" in owner_client.get(calls_url(line, "incoming")).content.decode()
        line.set_api_key("demo-other")
        line.save()
        page = owner_client.get(calls_url(line, "incoming")).content.decode()

    assert "Eve" in page and "Bob" not in page


def test_the_log_says_a_view_was_served_stored(owner_client, line, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="dashboard.request")
    with provider(history()):
        owner_client.get(calls_url(line, "missed"))
        owner_client.get(calls_url(line, "missed"))
    first, second = [r for r in caplog.records if r.name == "dashboard.request"]
    assert first.fields["view"] == "stored" and second.fields["view"] == "hit"
    assert User.objects.count() == 1


def test_the_filter_form_is_stored_for_the_view_it_belongs_to(client, line, owner, shared_user):
    with provider(history()):
        client.force_login(owner)
        first = client.get(calls_url(line, "incoming", "?q=Bob"))
        client.force_login(shared_user)
        second = client.get(calls_url(line, "incoming", "?q=Bob"))
        other = client.get(calls_url(line, "incoming", "?q=Carol"))

    assert second.context["controls"] == first.context["controls"]
    drawn = [t.name for t in second.templates]
    assert "controls" not in drawn and "listing" not in drawn  # both were stored
    assert 'name="q" id="id_q" value="Bob"' in second.content.decode()
    assert 'name="q" id="id_q" value="Carol"' in other.content.decode()
    assert "Bob" not in other.context["controls"]
    # The user's own part of the page is drawn for them, around the stored parts.
    assert '<span class="username">sam</span>' in second.content.decode()


def test_first_pages_and_answered_later_share_one_provider_answer_per_kind(owner_client, line):
    with provider(history()) as fake:
        for screen, query in [
            ("missed", ""),
            ("incoming", ""),
            ("outgoing", ""),
            ("incoming", "?page=2&per_page=25"),
            ("missed", "?per_page=100"),
        ]:
            assert owner_client.get(calls_url(line, screen, query)).status_code == 200
        asked = sorted((kind.value, q.offset, q.limit) for _, kind, q in fake.queries)

    assert asked == [("incoming", 0, 200), ("missed", 0, 200), ("outgoing", 0, 200)]


def test_answered_later_is_read_once_for_every_viewer_until_incoming_calls_change(
    client, line, owner, shared_user, monkeypatch
):
    from dashboard.calls import cache as calls_cache

    calls = history()
    calls[SUPPORT_KEY].append(call("incoming", "0470123456", T0 + timedelta(hours=1)))
    with provider(calls):
        client.force_login(owner)
        assert "badge-answered" in client.get(calls_url(line, "missed")).content.decode()
        # Another screen needing the index (the timeline) and another viewer.
        batches = []
        real_fetch = calls_cache.fetch_batch

        def counting(line_, kind, query, **kw):
            batches.append((kind, query.offset, query.limit))
            return real_fetch(line_, kind, query, **kw)

        monkeypatch.setattr("dashboard.followup.later.fetch_batch", counting)
        client.force_login(shared_user)
        timeline = client.get(calls_url(line, "all")).content.decode()
        stored_index_reads = list(batches)
        mark_views_stale(line, CallKind.INCOMING)
        client.get(calls_url(line, "all"))

    assert "badge-answered" in timeline
    assert stored_index_reads == []  # the index came whole from the cache
    assert (CallKind.INCOMING, 0, 200) in batches  # read again once incoming calls changed
