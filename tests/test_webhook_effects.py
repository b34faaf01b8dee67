"""An accepted event makes the line's cached answers of that kind stale (the next read asks
the provider), and nothing else; a duplicate or a refusal changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.calls import cache as calls_cache
from dashboard.calls.cache import fetch_batch, mark_views_stale
from dashboard.smsmobileapi.records import CallKind, CallQuery
from dashboard.webhooks import services
from tests.test_cache import FakeClock
from tests.webhook_helpers import SECRET, deliver, envelope

MISSED = "/call/missed/list/"
INCOMING = "/call/incoming/list/"
QUERY = CallQuery(limit=26)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(calls_cache, "clock", fake)
    return fake


@pytest.fixture
def endpoint(line):
    return services.set_secret(line, SECRET)


def test_a_change_makes_the_next_read_of_that_kind_ask_the_provider(line, demo_upstream, clock):
    fetch_batch(line, CallKind.MISSED, QUERY)
    fetch_batch(line, CallKind.INCOMING, QUERY)
    clock.advance(1)
    mark_views_stale(line, CallKind.MISSED)
    clock.advance(1)
    assert fetch_batch(line, CallKind.MISSED, QUERY).source == "upstream"
    assert fetch_batch(line, CallKind.INCOMING, QUERY).source == "cache"  # another kind
    assert fetch_batch(line, CallKind.MISSED, QUERY).source == "cache"  # fresh again
    assert demo_upstream.calls_to(MISSED) == 2
    assert demo_upstream.calls_to(INCOMING) == 1


def test_an_answer_asked_for_in_the_same_instant_as_the_change_is_not_fresh(
    line, demo_upstream, clock
):
    # The stopped clock: fetched "at" the very moment of the event, it may predate the call.
    fetch_batch(line, CallKind.MISSED, QUERY)
    mark_views_stale(line, CallKind.MISSED)
    assert fetch_batch(line, CallKind.MISSED, QUERY).source == "upstream"


def test_the_older_answer_is_still_shown_stale_when_the_provider_then_fails(
    line, demo_upstream, clock, monkeypatch
):
    from dashboard.smsmobileapi.errors import UpstreamTimeout

    first = fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(1)
    mark_views_stale(line, CallKind.MISSED)
    clock.advance(1)

    def down(*args, **kwargs):
        raise UpstreamTimeout("down")

    monkeypatch.setattr(calls_cache, "_list_calls", down)
    shown = fetch_batch(line, CallKind.MISSED, QUERY)
    assert shown.stale and shown.batch == first.batch


def test_an_accepted_delivery_refreshes_the_missed_table(
    endpoint, line, demo_upstream, owner_client
):
    url = reverse("line-calls", args=[line.pk, "missed"])
    assert owner_client.get(url).status_code == 200
    assert owner_client.get(url).status_code == 200
    before = demo_upstream.calls_to(MISSED)
    assert deliver(Client(), endpoint, envelope("call.missed")).status_code == 202
    assert owner_client.get(url).status_code == 200
    assert demo_upstream.calls_to(MISSED) > before
    incoming_before = demo_upstream.calls_to(INCOMING)
    owner_client.get(reverse("line-calls", args=[line.pk, "incoming"]))
    owner_client.get(reverse("line-calls", args=[line.pk, "incoming"]))
    assert demo_upstream.calls_to(INCOMING) - incoming_before <= 1


def test_a_duplicate_or_a_refused_delivery_changes_no_cache(
    endpoint, line, demo_upstream, owner_client
):
    event = envelope("call.missed")
    assert deliver(Client(), endpoint, event).status_code == 202
    url = reverse("line-calls", args=[line.pk, "missed"])
    owner_client.get(url)
    before = demo_upstream.calls_to(MISSED)
    assert deliver(Client(), endpoint, event).status_code == 200
    assert (
        deliver(Client(), endpoint, envelope(), secret="whsec_wrong_wrong_wrong").status_code == 401
    )
    owner_client.get(url)
    assert demo_upstream.calls_to(MISSED) == before


def test_an_event_makes_the_cached_overview_stale(endpoint, line, demo_upstream, owner_client):
    url = reverse("line-overview-content", args=[line.pk])
    owner_client.get(url)
    before = len(demo_upstream.recorded())
    owner_client.get(url)
    assert len(demo_upstream.recorded()) == before  # cached
    assert deliver(Client(), endpoint, envelope("call.incoming")).status_code == 202
    owner_client.get(url)
    assert len(demo_upstream.recorded()) > before


def test_a_delivered_missed_call_reaches_the_inbox_once(endpoint, line):
    from dashboard.inbox.models import Episode

    event = envelope("call.missed", number="+32486398674", name="Morgan")
    assert deliver(Client(), endpoint, event).status_code == 202
    assert deliver(Client(), endpoint, event).status_code == 200  # a retry files nothing
    episode = Episode.objects.get(line=line)
    assert (episode.number, episode.attempts) == ("+32486398674", 1)


def test_a_failing_effect_never_fails_the_delivery(endpoint, line, monkeypatch):
    from dashboard.webhooks.models import WebhookEvent

    def broken(*args, **kwargs):
        raise RuntimeError("inbox down")

    monkeypatch.setattr("dashboard.inbox.episodes.record_calls", broken)
    assert deliver(Client(), endpoint, envelope("call.missed")).status_code == 202
    assert WebhookEvent.objects.count() == 1


def _receive_counting_queries(endpoint, event) -> tuple[int, list[str], list[str]]:
    """One delivery straight to the view: the SQL run before the answer is returned, and
    the SQL its follow-up work runs once the server has sent it (close())."""
    import json

    from django.core.signals import request_finished
    from django.db import close_old_connections, connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from dashboard.webhooks.receiver import receive
    from tests.webhook_helpers import headers_for

    body = json.dumps(event).encode()
    request = RequestFactory().post(
        "/", data=body, content_type="application/json", headers=headers_for(body, event)
    )
    with CaptureQueriesContext(connection) as before:
        response = receive(request, endpoint.token)
    # As the test client does: the test's transaction outlives the "request".
    request_finished.disconnect(close_old_connections)
    try:
        with CaptureQueriesContext(connection) as after:
            response.close()
    finally:
        request_finished.connect(close_old_connections)
    return (
        response.status_code,
        [q["sql"] for q in before.captured_queries],
        [q["sql"] for q in after.captured_queries],
    )


def test_before_the_answer_a_delivery_reads_only_its_endpoint(endpoint, line):
    # The provider waits for the 202 and every worker shares SQLite's one writer: the line,
    # the inbox and the cache are the follow-up's, after the answer.
    status, before, _after = _receive_counting_queries(endpoint, envelope("call.missed"))
    assert status == 202
    selects = [sql for sql in before if sql.startswith("SELECT")]
    assert len(selects) == 1
    assert "lines_line" not in selects[0] and "ORDER BY" not in selects[0]
    assert not any("inbox_" in sql for sql in before)


def test_the_inbox_files_a_pushed_call_without_reading_it_twice(endpoint, line):
    # A stored event is new by its unique id: no "already filed?" look before the write
    # transaction, and no read back of the episode afterwards.
    status, _before, after = _receive_counting_queries(
        endpoint, envelope("call.missed", number="+32486398674")
    )
    assert status == 202
    attempt_reads = [s for s in after if s.startswith("SELECT") and 'FROM "inbox_attempt"' in s]
    assert len(attempt_reads) == 1  # the write transaction's own check for filed calls
    from dashboard.inbox.models import Episode

    episode = Episode.objects.get(line=line)
    assert (episode.number, episode.attempts) == ("+32486398674", 1)


def _stored_pending(endpoint, monkeypatch, count: int) -> list[str]:
    """`count` missed calls delivered (202) while their effects wait, as in a burst whose
    drain is still busy: the numbers, each its own caller."""
    from dashboard.webhooks import effects

    monkeypatch.setattr(effects, "drain", lambda line_id: 0)
    numbers = [f"+3248639{i:04d}" for i in range(count)]
    for number in numbers:
        assert (
            deliver(Client(), endpoint, envelope("call.missed", number=number)).status_code == 202
        )
    monkeypatch.undo()
    return numbers


def test_a_burst_is_filed_in_one_inbox_transaction_and_nothing_stays_pending(
    endpoint, line, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dashboard.inbox.models import Attempt, Episode
    from dashboard.webhooks import effects
    from dashboard.webhooks.models import WebhookEvent

    numbers = _stored_pending(endpoint, monkeypatch, 5)
    assert WebhookEvent.objects.filter(effects_pending=True).count() == 5
    assert not Episode.objects.exists()  # stored, acknowledged, not filed yet
    with CaptureQueriesContext(connection) as queries:
        assert effects.drain(line.pk) == 5
    inserts = [q["sql"] for q in queries.captured_queries if 'INTO "inbox_attempt"' in q["sql"]]
    assert len(inserts) == 1  # the five attempts in one statement, one transaction
    assert sorted(Episode.objects.values_list("number", flat=True)) == numbers
    assert Attempt.objects.count() == 5
    assert not WebhookEvent.objects.filter(effects_pending=True).exists()
    assert effects.drain(line.pk) == 0  # run once: nothing filed twice


def test_a_drain_finding_the_line_busy_leaves_its_event_to_the_holder(endpoint, line, monkeypatch):
    from dashboard.inbox.models import Episode
    from dashboard.ops.safe_cache import safe_cache
    from dashboard.webhooks import effects

    _stored_pending(endpoint, monkeypatch, 1)
    key = effects._lock_key(line.pk)
    assert safe_cache.add(key, 1, 30)  # another process is draining this line
    try:
        assert (
            deliver(Client(), endpoint, envelope("call.missed", number="+32486390099")).status_code
            == 202
        )
        assert not Episode.objects.exists()
    finally:
        safe_cache.delete(key)
    # The holder looks again after letting go (drain's last check): both are filed.
    assert effects.drain(line.pk) == 2
    assert Episode.objects.count() == 2


def test_effects_of_a_web_process_killed_mid_way_are_run_by_the_worker(
    transactional_db, line, monkeypatch, tmp_path
):
    import subprocess
    import sys
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.inbox.models import Episode
    from dashboard.webhooks import effects
    from dashboard.webhooks.models import WebhookEvent
    from tests.workers import ROOT, start_worker, wait_for, worker_env

    endpoint = services.set_secret(line, SECRET)
    _stored_pending(endpoint, monkeypatch, 3)
    env = worker_env(tmp_path)
    # A web process drains the line and is killed (SIGKILL) inside the inbox's write
    # transaction, holding the line's drain lock.
    script = (
        "import os, signal\n"
        "from dashboard.inbox import episodes\n"
        "from dashboard.webhooks import effects\n"
        "episodes._Filer.save = lambda self: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"effects.drain({line.pk})\n"
    )
    killed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, timeout=60
    )
    assert killed.returncode == -9
    assert WebhookEvent.objects.filter(effects_pending=True).count() == 3
    assert not Episode.objects.exists()  # its transaction died with it
    # Time passes: the dead process's lock expires and the events are old enough to sweep.
    WebhookEvent.objects.update(
        received_at=timezone.now() - effects.SWEEP_AFTER - timedelta(seconds=1)
    )
    expire = f"from django.core.cache import cache; cache.delete({effects._lock_key(line.pk)!r})"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", expire], cwd=ROOT, env=env, check=True
    )
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: not WebhookEvent.objects.filter(effects_pending=True).exists(),
            60,
            "the sweep ran the pending effects",
        )
    finally:
        worker.stop()
    assert sorted(Episode.objects.values_list("attempts", flat=True)) == [1, 1, 1]
    assert "left pending by a stopped process ran" in worker.log_text()


def test_a_young_pending_event_is_left_to_its_drain(endpoint, line, monkeypatch):
    from dashboard.webhooks import effects

    _stored_pending(endpoint, monkeypatch, 1)
    assert effects.sweep() == 0  # its drain is surely still running


def test_a_drain_that_fails_leaves_the_events_pending_for_the_sweep(endpoint, line, monkeypatch):
    from dashboard.webhooks import effects
    from dashboard.webhooks.models import WebhookEvent

    def database_away(line_id):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(effects, "_run_batch", database_away)
    assert deliver(Client(), endpoint, envelope("call.missed")).status_code == 202
    assert WebhookEvent.objects.filter(effects_pending=True).count() == 1
