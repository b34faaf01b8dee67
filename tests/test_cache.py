"""The upstream cache: shared hits, single flight, stale answers, backoff and Refresh.

Upstream calls are counted where they land (the demo upstream's recorded requests, or a
switchable wrapper around it on a real socket); time is a controllable clock.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.test import override_settings
from django.urls import reverse

from dashboard.calls import cache as calls_cache
from dashboard.calls.cache import cache_keys, fetch_batch
from dashboard.lines import crypto
from dashboard.ops.safe_cache import SafeCache
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient, build_params
from dashboard.smsmobileapi.demo import DemoUpstream
from dashboard.smsmobileapi.errors import RateLimited, UpstreamTimeout
from dashboard.smsmobileapi.records import CallBatch, CallKind, CallQuery
from tests.conftest import DEMO_NOW, SUPPORT_KEY, make_line
from tests.servers import refused_port, serve_wsgi

ROOT = Path(__file__).resolve().parent.parent
MISSED = "/call/missed/list/"
QUERY = CallQuery(limit=26)
REDIS_URL = "redis://127.0.0.1:6379/3"


class FakeClock:
    """The cache's wall clock, stopped: it moves only by `advance`, so an entry stored "4
    minutes ago" is exactly that old however slowly the machine runs the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def refused() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test."""
    with refused_port() as port:
        yield port


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(calls_cache, "clock", fake)
    return fake


class Switchable:
    """The demo upstream behind a switch that makes it fail the ways the provider can."""

    def __init__(self, app: DemoUpstream) -> None:
        self.app = app
        self.mode: str | None = None
        self.retry_after = "30"
        self.delay = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        json_type = ("Content-Type", "application/json")
        if self.mode == "error":
            start_response("500 Internal Server Error", [json_type])
            return [b'{"success":false,"error":"server_error","detail":"SQLSTATE"}']
        if self.mode == "ratelimit":
            start_response("429 Too Many Requests", [json_type, ("Retry-After", self.retry_after)])
            return [b'{"success":false,"error":"rate_limited"}']
        if self.mode == "expired" and "/missed/" not in environ["PATH_INFO"]:
            start_response("403 Forbidden", [json_type])
            return [b'{"success":false,"error":"api_expired"}']
        if self.mode == "slow":
            time.sleep(1.0)
        return self.app(environ, start_response)


@pytest.fixture
def upstream(demo_upstream) -> Iterator[Switchable]:
    """A switchable upstream on a real socket, used by the dashboard's client."""
    app = Switchable(demo_upstream)
    with serve_wsgi(app) as base_url:
        client = SmsMobileApiClient(base_url, connect_timeout=0.5, read_timeout=0.3)
        previous = conf.set_client(client)
        yield app
        conf.set_client(previous)
        client.close()


def keys_for(key: str, kind: CallKind = CallKind.MISSED, query: CallQuery = QUERY):
    return cache_keys(crypto.fingerprint(key), kind, build_params(kind, query))


def redis_or_fail():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.fail(
            f"Redis is required by the cross-process tests and not reachable at {REDIS_URL}"
        )
    return redis.Redis.from_url(REDIS_URL)


def redis_caches(prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "dashboard.ops.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }


# Hits, misses, expiry --------------------------------------------------------------------


def test_a_repeat_request_is_served_from_the_cache(line, demo_upstream):
    first = fetch_batch(line, CallKind.MISSED, QUERY)
    second = fetch_batch(line, CallKind.MISSED, QUERY)

    assert (first.source, second.source) == ("upstream", "cache")
    assert demo_upstream.calls_to(MISSED) == 1
    assert second.batch == first.batch
    assert second.fetched_at == first.fetched_at
    assert second.error is None and not second.stale


def test_different_filters_are_different_entries(line, demo_upstream):
    fetch_batch(line, CallKind.MISSED, QUERY)
    fetch_batch(line, CallKind.MISSED, QUERY.replace(offset=25))
    fetch_batch(line, CallKind.MISSED, QUERY.replace(search="Alice"))
    fetch_batch(line, CallKind.INCOMING, QUERY)

    assert len(demo_upstream.recorded()) == 4


def test_queries_the_provider_would_see_as_equal_share_one_entry(line, demo_upstream):
    # The key is built from the client's own normalised parameters: the same request
    # upstream is the same entry, however it was spelled.
    fetch_batch(line, CallKind.MISSED, QUERY.replace(search="  Alice   Dupont "))
    again = fetch_batch(line, CallKind.MISSED, QUERY.replace(search="Alice Dupont"))
    # Missed calls cannot be sorted: a sort choice does not change the request.
    fetch_batch(line, CallKind.MISSED, QUERY.replace(search="Alice Dupont", descending=False))

    assert again.source == "cache"
    assert len(demo_upstream.recorded()) == 1


def test_an_entry_expires_after_the_ttl(line, demo_upstream, clock):
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(29)
    assert fetch_batch(line, CallKind.MISSED, QUERY).source == "cache"
    clock.advance(2)
    refetched = fetch_batch(line, CallKind.MISSED, QUERY)

    assert refetched.source == "upstream"
    assert demo_upstream.calls_to(MISSED) == 2


@override_settings(CALLS_CACHE_TTL=5)
def test_the_ttl_is_a_setting(line, demo_upstream, clock):
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(6)
    fetch_batch(line, CallKind.MISSED, QUERY)

    assert demo_upstream.calls_to(MISSED) == 2


def test_users_who_share_a_line_share_its_entries(client, line, owner, shared_user, demo_upstream):
    target = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    client.force_login(owner)
    owners_page = client.get(target)
    client.force_login(shared_user)
    shared_page = client.get(target)

    assert owners_page.status_code == shared_page.status_code == 200
    assert demo_upstream.calls_to(MISSED) == 1
    assert shared_page.context["page"].source == "cache"
    assert shared_page.context["listing"] == owners_page.context["listing"]


def test_two_lines_with_the_same_key_share_entries(owner, stranger, demo_upstream):
    # The entry belongs to the key, not to the Line row: another owner of the same key
    # sees nothing they could not fetch themselves.
    mine = make_line(owner, SUPPORT_KEY, "Support")
    theirs = make_line(stranger, SUPPORT_KEY, "Same phone")
    fetch_batch(mine, CallKind.MISSED, QUERY)

    assert fetch_batch(theirs, CallKind.MISSED, QUERY).source == "cache"
    assert demo_upstream.calls_to(MISSED) == 1


def test_different_lines_never_share_entries(owner, demo_upstream):
    support = make_line(owner, "demo-support")
    sales = make_line(owner, "demo-sales")
    from_support = fetch_batch(support, CallKind.MISSED, QUERY)
    from_sales = fetch_batch(sales, CallKind.MISSED, QUERY)

    assert (from_support.source, from_sales.source) == ("upstream", "upstream")
    assert [r.params["apikey"] for r in demo_upstream.recorded()] == ["demo-support", "demo-sales"]
    assert from_support.batch.calls != from_sales.batch.calls


def test_drifting_rows_come_back_from_the_cache_unchanged(owner, demo_upstream):
    drifting = make_line(owner, "demo-drift")
    fresh = fetch_batch(drifting, CallKind.INCOMING, CallQuery(limit=200))
    cached = fetch_batch(drifting, CallKind.INCOMING, CallQuery(limit=200))

    assert cached.source == "cache"
    assert cached.batch == fresh.batch and cached.batch.calls


def test_an_unreadable_entry_is_a_miss_not_an_error(line, demo_upstream):
    cache.set(keys_for(SUPPORT_KEY).entry, {"at": "yesterday", "batch": "<html>"})

    assert fetch_batch(line, CallKind.MISSED, QUERY).source == "upstream"
    assert fetch_batch(line, CallKind.MISSED, QUERY).source == "cache"


# Single flight ---------------------------------------------------------------------------


def run_concurrently(count: int, target) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = target()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_identical_requests_make_one_upstream_call(line, demo_upstream):
    demo_upstream.latency = 0.3
    results = run_concurrently(12, lambda: fetch_batch(line, CallKind.MISSED, QUERY))

    assert demo_upstream.calls_to(MISSED) == 1
    assert sorted(r.source for r in results) == ["cache"] * 11 + ["upstream"]
    assert all(r.batch == results[0].batch and r.error is None for r in results)


def test_waiters_get_the_holders_error_without_calling_again(line, upstream):
    upstream.mode = "error"
    upstream.delay = 0.2
    results = run_concurrently(6, lambda: fetch_batch(line, CallKind.MISSED, QUERY))

    assert upstream.calls == 1
    assert {r.error.code for r in results} == {"server_error"}
    assert all(r.batch is None for r in results)


def start_workers(cache_url: str, base_url: str, count: int, threads: int, key: str) -> list:
    """`count` processes of THREADS fetchers each, sharing the cache at `cache_url`
    (`disk:PATH`: the disk cache in PATH)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_LEVEL": "WARNING"}
    if cache_url.startswith("disk:"):
        env.pop("CACHE_URL", None)
        env["TEST_DISK_CACHE"] = cache_url.removeprefix("disk:")
    else:
        env["CACHE_URL"] = cache_url
    workers = []
    for _ in range(count):
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.singleflight_worker", base_url, str(threads), key],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        workers.append(worker)
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    return workers


def go(worker) -> None:
    worker.stdin.write("go\n")
    worker.stdin.flush()


def results_of(worker) -> list[str]:
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0
    return json.loads(out)["sources"]


@pytest.mark.services
def test_single_flight_holds_across_processes_sharing_redis():
    client = redis_or_fail()
    # A key of its own (any demo-<name> is a valid demo line): cold on every run.
    key = f"demo-{uuid.uuid4().hex[:12]}"
    upstream = DemoUpstream(clock=lambda: DEMO_NOW, latency=0.5, record_requests=True)
    with serve_wsgi(upstream) as base_url:
        workers = start_workers(REDIS_URL, base_url, count=2, threads=6, key=key)
        for worker in workers:
            go(worker)  # both processes at once
        sources = [s for worker in workers for s in results_of(worker)]
    stored = list(client.scan_iter(f"*{crypto.fingerprint(key)}*"))
    assert stored, "the workers shared nothing through Redis"
    client.delete(*stored)

    assert upstream.calls_to(MISSED) == 1
    assert sorted(sources) == ["cache"] * 11 + ["upstream"]


def test_a_process_waits_for_another_process_fetch_through_a_file_cache(tmp_path):
    # The file cache's add() is not atomic (exists-then-write), so two requests starting
    # in the same instant could both take the lock; here one request in the first process
    # takes it and four in the second arrive while it is held, which is what this backend
    # can guarantee.
    cache_url = f"filecache://{tmp_path / 'cache'}"
    upstream = DemoUpstream(clock=lambda: DEMO_NOW, latency=0.8, record_requests=True)
    file_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    lock_key = keys_for(SUPPORT_KEY).lock
    with serve_wsgi(upstream) as base_url:
        (first,) = start_workers(cache_url, base_url, count=1, threads=1, key=SUPPORT_KEY)
        (second,) = start_workers(cache_url, base_url, count=1, threads=4, key=SUPPORT_KEY)
        go(first)
        with override_settings(CACHES=file_cache):
            deadline = time.monotonic() + 5
            while caches["default"].get(lock_key) is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert caches["default"].get(lock_key) is not None, "the first process took no lock"
        go(second)
        first_sources, second_sources = results_of(first), results_of(second)

    assert upstream.calls_to(MISSED) == 1
    assert first_sources == ["upstream"]
    assert second_sources == ["cache"] * 4


class RecordingStore:
    """The flight's cache, recording each operation (one round trip each) by name."""

    def __init__(self, store: SafeCache) -> None:
        self.store = store
        self.operations: list[str] = []

    def __getattr__(self, name: str):
        operation = getattr(self.store, name)

        def recorded(*args, **kwargs):
            self.operations.append(name)
            return operation(*args, **kwargs)

        return recorded


@pytest.fixture
def store(monkeypatch) -> RecordingStore:
    recording = RecordingStore(calls_cache._store)
    monkeypatch.setattr(calls_cache, "_store", recording)
    return recording


def test_a_miss_costs_five_cache_round_trips(line, demo_upstream, store):
    # Read, lock, read again under the lock, store, unlock (with any refusal): each round
    # trip to Redis is latency added to the provider's own.
    fetch_batch(line, CallKind.MISSED, QUERY)
    assert store.operations == ["get_many", "add", "get_many", "set", "delete_many"]
    assert cache.get(keys_for(SUPPORT_KEY).lock) is None
    store.operations.clear()
    fetch_batch(line, CallKind.MISSED, QUERY)
    assert store.operations == ["get_many"]  # a hit: one


@override_settings(CALLS_CACHE_LOCK_TIMEOUT=0.3)
def test_a_fetch_that_outlived_its_lock_leaves_the_next_holders_lock(
    line, demo_upstream, monkeypatch
):
    lock = keys_for(SUPPORT_KEY).lock
    real_fetch = calls_cache._list_calls

    def slow_fetch(*args):
        # Our lock expired during the fetch and another request took it.
        cache.set(lock, "another request's token", timeout=30)
        return real_fetch(*args)

    monkeypatch.setattr(calls_cache, "_list_calls", slow_fetch)
    fetched = fetch_batch(line, CallKind.MISSED, QUERY)
    assert fetched.source == "upstream"
    assert cache.get(lock) == "another request's token"


def test_a_refusal_that_lands_during_a_good_fetch_is_cleared(line, demo_upstream, monkeypatch):
    # Another view of the same line and kind was refused while this one fetched; the good
    # answer is the news: the view just fetched must not show the refusal instead.
    keys = keys_for(SUPPORT_KEY)
    real_fetch = calls_cache._list_calls

    def fetch_meanwhile_refused(*args):
        cache.set(keys.refused, "api_expired", timeout=30)
        return real_fetch(*args)

    monkeypatch.setattr(calls_cache, "_list_calls", fetch_meanwhile_refused)
    assert fetch_batch(line, CallKind.MISSED, QUERY).error is None
    monkeypatch.setattr(calls_cache, "_list_calls", real_fetch)
    again = fetch_batch(line, CallKind.MISSED, QUERY)
    assert again.error is None and again.source == "cache"
    assert cache.get(keys.refused) is None


def test_a_good_answer_after_refresh_clears_the_refusal(line, demo_upstream):
    keys = keys_for(SUPPORT_KEY)
    cache.set(keys.refused, "api_expired", timeout=30)
    assert fetch_batch(line, CallKind.MISSED, QUERY).error.code == "api_expired"
    assert demo_upstream.calls_to(MISSED) == 0

    # The owner renewed the subscription and pressed Refresh: the key works again.
    assert fetch_batch(line, CallKind.MISSED, QUERY, refresh=True).error is None
    other_view = fetch_batch(line, CallKind.MISSED, QUERY.replace(search="Marie"))
    assert other_view.error is None and other_view.source == "upstream"
    assert cache.get(keys.refused) is None


class HangingProvider:
    """Stands in for the client: the first call never returns until `go` is set (a holder
    that crashed, as far as everyone else can tell); each call notes the lock it saw."""

    def __init__(self, lock_key: str) -> None:
        self.lock_key = lock_key
        self.go = threading.Event()
        self.locks_seen: list[object] = []
        self._first = threading.Lock()

    def list_calls(self, api_key, kind, query):
        self.locks_seen.append(cache.get(self.lock_key))
        if self._first.acquire(blocking=False):
            self.go.wait(timeout=30)
        return CallBatch(kind=kind, calls=(), offset=query.offset, limit=query.limit)


@override_settings(CALLS_CACHE_LOCK_TIMEOUT=1)
def test_a_crashed_holder_blocks_others_only_until_its_lock_expires(line):
    lock_key = keys_for(SUPPORT_KEY).lock
    provider = HangingProvider(lock_key)
    previous = conf.set_client(provider)
    holder = threading.Thread(target=fetch_batch, args=(line, CallKind.MISSED, QUERY))
    try:
        holder.start()
        deadline = time.monotonic() + 5
        while not provider.locks_seen and time.monotonic() < deadline:  # the holder's call
            time.sleep(0.005)
        (holders_lock,) = provider.locks_seen
        assert holders_lock is not None
        # The cache expires the lock on real time, so this test waits for it: it starts the
        # waiter half-way through the holder's lock, so the waiter's own deadline (one
        # lock timeout) falls after the lock's end.
        time.sleep(0.5)
        fetched = fetch_batch(line, CallKind.MISSED, QUERY)
    finally:
        provider.go.set()
        holder.join(timeout=30)
        conf.set_client(previous)

    assert fetched.source == "upstream" and fetched.error is None
    # The waiter called only once the holder's lock was gone, under a lock of its own:
    # others could single-flight behind it again. (A lock that never expires makes the
    # waiter give up at its deadline and call with the dead lock still in place.)
    waiters_lock = provider.locks_seen[1]
    assert waiters_lock is not None and waiters_lock != holders_lock


@override_settings(CALLS_CACHE_LOCK_TIMEOUT=0.3)
def test_a_stuck_holder_makes_waiters_show_the_older_answer(line, demo_upstream, clock):
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(60)
    cache.set(keys_for(SUPPORT_KEY).lock, "a request still fetching", timeout=30)
    fetched = fetch_batch(line, CallKind.MISSED, QUERY)

    assert fetched.stale and fetched.batch is not None
    assert isinstance(fetched.error, UpstreamTimeout)
    assert demo_upstream.calls_to(MISSED) == 1


# Stale answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "code"),
    [("error", "server_error"), ("slow", "timeout"), ("unreachable", "unreachable")],
)
def test_a_failing_provider_gets_the_last_good_answer_shown_stale(
    line, upstream, clock, mode, code
):
    good = fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(4 * 60)
    with refused_port() as port:
        if mode == "unreachable":
            conf.set_client(SmsMobileApiClient(f"http://127.0.0.1:{port}", connect_retries=0))
        else:
            upstream.mode = mode
        fetched = fetch_batch(line, CallKind.MISSED, QUERY)

    assert fetched.stale and fetched.source == "stale"
    assert fetched.error.code == code
    assert fetched.batch == good.batch
    assert fetched.fetched_at == good.fetched_at


def test_the_page_says_how_old_the_stale_answer_is(owner_client, line, upstream, clock):
    target = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    clock.advance(-4 * 60)  # fetched four minutes ago
    good = owner_client.get(target)
    clock.advance(4 * 60)
    upstream.mode = "error"
    response = owner_client.get(target, HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Showing data from 4\xa0minutes ago — SMSMobileAPI is not answering." in html
    assert "SMSMobileAPI had an internal error." in html
    assert response.context["page"].calls == good.context["page"].calls
    assert 'data-stale="server_error"' in html


def test_nothing_is_shown_stale_after_the_stale_window(line, upstream, clock):
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(15 * 60 + 1)
    upstream.mode = "error"
    fetched = fetch_batch(line, CallKind.MISSED, QUERY)

    assert fetched.batch is None and not fetched.stale
    assert fetched.error.code == "server_error"


def test_a_rejected_key_is_never_hidden_behind_an_older_answer(line, upstream, clock):
    fetch_batch(line, CallKind.INCOMING, QUERY)
    clock.advance(60)
    upstream.mode = "expired"
    fetched = fetch_batch(line, CallKind.INCOMING, QUERY)
    # Not the provider's health: the line is not paused, missed calls still load.
    missed = fetch_batch(line, CallKind.MISSED, QUERY)

    assert fetched.batch is None and fetched.error.code == "api_expired"
    assert not fetched.stale and fetched.retry_in is None
    assert missed.error is None and missed.source == "upstream"


# Backoff ---------------------------------------------------------------------------------


def test_a_429_pauses_the_line_for_its_retry_after(line, upstream, clock):
    upstream.mode = "ratelimit"
    upstream.retry_after = "120"
    first = fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(60)
    during = fetch_batch(line, CallKind.MISSED, QUERY)
    other_kind = fetch_batch(line, CallKind.INCOMING, QUERY)

    assert isinstance(first.error, RateLimited) and first.retry_in == 120
    assert isinstance(during.error, RateLimited) and during.source == "backoff"
    assert 59 <= during.retry_in <= 60
    assert other_kind.error.code == "rate_limited"
    assert upstream.calls == 1  # nothing reached the provider while paused

    upstream.mode = None
    clock.advance(61)
    after = fetch_batch(line, CallKind.MISSED, QUERY)
    assert after.error is None and after.source == "upstream"
    assert upstream.calls == 2


def test_the_pause_grows_with_each_failure_up_to_the_cap(line, upstream, clock):
    upstream.mode = "error"
    pauses = []
    for _ in range(8):
        fetched = fetch_batch(line, CallKind.MISSED, QUERY)
        pauses.append(fetched.retry_in)
        # Paused for exactly as long as the page says (the clock only moves when told).
        clock.advance(fetched.retry_in - 0.001)
        assert fetch_batch(line, CallKind.MISSED, QUERY).source == "backoff"
        clock.advance(0.001)

    assert pauses == [5, 10, 20, 40, 80, 160, 300, 300]
    assert upstream.calls == 8


def test_a_pause_is_logged_naming_the_line_by_its_fingerprint(line, upstream, clock, caplog):
    upstream.mode = "error"
    with caplog.at_level(logging.WARNING, logger="dashboard.calls.cache"):
        fetch_batch(line, CallKind.MISSED, QUERY)
    (record,) = [r for r in caplog.records if "pausing its calls" in r.getMessage()]
    assert record.getMessage() == (
        f"SMSMobileAPI server_error for line {crypto.fingerprint(SUPPORT_KEY)[:8]}…: "
        "pausing its calls for 5 s (failure 1)"
    )
    assert SUPPORT_KEY not in caplog.text


def test_a_success_ends_the_growth(line, upstream, clock):
    upstream.mode = "error"
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(6)
    fetch_batch(line, CallKind.MISSED, QUERY)  # second failure: 10 s
    clock.advance(11)
    upstream.mode = None
    assert fetch_batch(line, CallKind.MISSED, QUERY).error is None
    clock.advance(31)
    upstream.mode = "error"

    assert fetch_batch(line, CallKind.MISSED, QUERY).retry_in == 5


def test_a_paused_line_serves_stale_answers_and_other_lines_are_not_paused(
    owner, line, upstream, clock
):
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(45)
    upstream.mode = "error"
    fetch_batch(line, CallKind.MISSED, QUERY)  # fails: pause
    during = fetch_batch(line, CallKind.MISSED, QUERY)
    calls_while_paused = upstream.calls
    upstream.mode = None
    sales = fetch_batch(make_line(owner, "demo-sales"), CallKind.MISSED, QUERY)

    assert during.stale and during.batch is not None and during.retry_in == 5
    assert calls_while_paused == 2
    assert sales.error is None and upstream.calls == 3


def test_the_error_banner_says_when_the_provider_is_asked_again(owner_client, line, upstream):
    upstream.mode = "ratelimit"
    target = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
    owner_client.get(target)
    response = owner_client.get(target + "?page=2", HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert 'data-error="rate_limited"' in html
    assert "SMSMobileAPI will be asked again in 30 seconds." in html
    assert upstream.calls == 1


# Refresh ---------------------------------------------------------------------------------


def test_refresh_bypasses_a_fresh_entry(line, demo_upstream):
    first = fetch_batch(line, CallKind.MISSED, QUERY)
    refreshed = fetch_batch(line, CallKind.MISSED, QUERY, refresh=True)
    after = fetch_batch(line, CallKind.MISSED, QUERY)

    assert refreshed.source == "upstream"
    assert refreshed.fetched_at > first.fetched_at
    assert after.source == "cache" and after.fetched_at == refreshed.fetched_at
    assert demo_upstream.calls_to(MISSED) == 2


def test_refresh_is_limited_to_one_per_line_per_interval(line, owner, demo_upstream):
    fetch_batch(line, CallKind.MISSED, QUERY)
    fetch_batch(line, CallKind.INCOMING, QUERY)
    assert fetch_batch(line, CallKind.MISSED, QUERY, refresh=True).source == "upstream"
    # Everyone else pressing Refresh on this line within 10 s gets the fresh-enough answer.
    presses = run_concurrently(20, lambda: fetch_batch(line, CallKind.MISSED, QUERY, refresh=True))
    other_view = fetch_batch(line, CallKind.INCOMING, QUERY, refresh=True)
    other_line = fetch_batch(make_line(owner, "demo-sales"), CallKind.MISSED, QUERY)
    other_line_refresh = fetch_batch(
        make_line(owner, "demo-sales", "Sales 2"), CallKind.MISSED, QUERY, refresh=True
    )

    assert {p.source for p in presses} == {"cache"}
    assert other_view.source == "cache"
    assert other_line.source == "upstream" and other_line_refresh.source == "upstream"
    assert len(demo_upstream.recorded()) == 5


@override_settings(CALLS_REFRESH_INTERVAL=1)
def test_refresh_is_allowed_again_after_the_interval(line, demo_upstream):
    fetch_batch(line, CallKind.MISSED, QUERY)
    assert fetch_batch(line, CallKind.MISSED, QUERY, refresh=True).source == "upstream"
    assert fetch_batch(line, CallKind.MISSED, QUERY, refresh=True).source == "cache"
    # The limit is a cache entry living CALLS_REFRESH_INTERVAL, expired by the cache on
    # real time: wait for that entry to go (a condition, not a guessed sleep) …
    limit_key = keys_for(SUPPORT_KEY).refresh
    deadline = time.monotonic() + 5
    while cache.get(limit_key) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.get(limit_key) is None, "the refresh limit never expired"

    # … after which Refresh asks the provider again.
    assert fetch_batch(line, CallKind.MISSED, QUERY, refresh=True).source == "upstream"
    assert demo_upstream.calls_to(MISSED) == 3


def test_concurrent_refreshes_of_a_cold_entry_make_one_call(line, demo_upstream):
    demo_upstream.latency = 0.2
    results = run_concurrently(8, lambda: fetch_batch(line, CallKind.MISSED, QUERY, refresh=True))

    assert demo_upstream.calls_to(MISSED) == 1
    assert all(r.batch == results[0].batch for r in results)


def test_refresh_does_not_break_a_pause(line, upstream, clock):
    fetch_batch(line, CallKind.MISSED, QUERY)
    clock.advance(20)
    upstream.mode = "ratelimit"
    fetch_batch(line, CallKind.INCOMING, QUERY)  # 429: the line pauses for 30 s
    clock.advance(15)  # the missed entry is 35 s old: no longer fresh
    refreshed = fetch_batch(line, CallKind.MISSED, QUERY, refresh=True)

    assert refreshed.stale and refreshed.batch is not None
    assert refreshed.error.code == "rate_limited" and refreshed.retry_in == 15
    assert upstream.calls == 2


def test_the_refresh_button_asks_the_provider_again(owner_client, line, demo_upstream):
    target = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    owner_client.get(target)
    response = owner_client.get(target + "?refresh=1", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.context["page"].source == "upstream"
    assert demo_upstream.calls_to(MISSED) == 2


# What is stored --------------------------------------------------------------------------


def exercise_every_entry_kind(owner, upstream: Switchable, clock: FakeClock) -> None:
    """Entries, locks, refresh limits and pauses, for a key the provider echoes back."""
    line = make_line(owner, SUPPORT_KEY, "Support")
    fetch_batch(line, CallKind.INCOMING, QUERY)
    fetch_batch(line, CallKind.INCOMING, QUERY.replace(search="+32"))
    fetch_batch(line, CallKind.MISSED, QUERY)
    fetch_batch(line, CallKind.INCOMING, QUERY, refresh=True)
    clock.advance(40)
    upstream.mode = "ratelimit"
    fetch_batch(line, CallKind.INCOMING, QUERY)
    cache.add(keys_for(SUPPORT_KEY).lock, uuid.uuid4().hex, timeout=30)


def test_the_local_memory_cache_holds_neither_the_key_nor_its_echo(owner, upstream, clock):
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"secrets-{uuid.uuid4().hex}",
            }
        }
    ):
        exercise_every_entry_kind(owner, upstream, clock)
        store = caches["default"]._cache
        stored = dict(store)

    assert len(stored) >= 6
    assert upstream.app.recorded()[0].params["apikey"] == SUPPORT_KEY
    for key, value in stored.items():
        assert SUPPORT_KEY not in key
        assert crypto.fingerprint(SUPPORT_KEY) in key
        assert SUPPORT_KEY.encode() not in value
        assert SUPPORT_KEY not in repr(pickle.loads(value))  # noqa: S301 - our own test data


@pytest.mark.services
def test_redis_holds_neither_the_key_nor_its_echo(owner, upstream, clock):
    client = redis_or_fail()
    prefix = f"secrets-{uuid.uuid4().hex}"
    with override_settings(CACHES=redis_caches(prefix)):
        exercise_every_entry_kind(owner, upstream, clock)
    try:
        keys = list(client.scan_iter(f"{prefix}:*"))
        assert len(keys) >= 6
        for key in keys:
            assert SUPPORT_KEY.encode() not in key
            value = client.get(key)
            assert SUPPORT_KEY.encode() not in value
            if value.isdigit():  # Django's Redis backend stores integers unpickled
                continue
            assert SUPPORT_KEY not in repr(pickle.loads(value))  # noqa: S301 - our own test data
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.mark.services
def test_redis_serves_hits_like_local_memory(line, demo_upstream):
    client = redis_or_fail()
    prefix = f"hits-{uuid.uuid4().hex}"
    try:
        with override_settings(CACHES=redis_caches(prefix)):
            first = fetch_batch(line, CallKind.INCOMING, QUERY)
            second = fetch_batch(line, CallKind.INCOMING, QUERY)
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)

    assert (first.source, second.source) == ("upstream", "cache")
    assert second.batch == first.batch
    assert demo_upstream.calls_to("/call/incoming/list/") == 1


# A broken cache --------------------------------------------------------------------------


def test_an_unreachable_redis_degrades_to_no_cache_with_a_warning(
    line, demo_upstream, caplog, refused
):
    broken = {
        "default": {
            "BACKEND": "dashboard.ops.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{refused}/0",
        }
    }
    # No warning given yet: tests/conftest.py resets (and restores) SafeCache._warned_at.
    with override_settings(CACHES=broken), caplog.at_level(logging.WARNING):
        first = fetch_batch(line, CallKind.MISSED, QUERY)
        second = fetch_batch(line, CallKind.MISSED, QUERY)
        refreshed = fetch_batch(line, CallKind.MISSED, QUERY, refresh=True)

    assert all(f.error is None and f.batch is not None for f in (first, second, refreshed))
    assert second.source == "upstream"  # nothing cached, nothing broken
    assert demo_upstream.calls_to(MISSED) == 3
    warnings = [r for r in caplog.records if r.name == "dashboard.ops.safe_cache"]
    assert len(warnings) == 1  # once a minute, not once per request
    assert "serving without the cache" in warnings[0].getMessage()
    assert SUPPORT_KEY not in caplog.text


@pytest.mark.parametrize("kind", ["missed", "incoming", "all"])
def test_every_calls_page_still_renders_while_redis_is_down(owner_client, line, kind, refused):
    broken = {
        "default": {
            "BACKEND": "dashboard.ops.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{refused}/0",
        }
    }
    target = (
        reverse("line-timeline", kwargs={"line_id": line.pk})
        if kind == "all"
        else reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind})
    )
    with override_settings(CACHES=broken):
        full = owner_client.get(target)
        partial = owner_client.get(target + "?q=%2B32", HTTP_HX_REQUEST="true")
        ready = owner_client.get("/readyz")
    assert full.status_code == 200 and "<tbody>" in full.content.decode()
    assert partial.status_code == 200
    assert ready.status_code == 503 and ready.json()["checks"]["cache"] == "failing"


def test_refresh_on_the_timeline_asks_again_for_all_three_kinds(owner_client, line, demo_upstream):
    target = reverse("line-timeline", kwargs={"line_id": line.pk})
    owner_client.get(target)
    demo_upstream.clear_requests()
    owner_client.get(target + "?refresh=1", HTTP_HX_REQUEST="true")
    paths = {r.path for r in demo_upstream.recorded()}
    assert {"/call/missed/list/", "/call/incoming/list/", "/call/outgoing/list/"} <= paths


@pytest.mark.parametrize(
    ("key", "kind"), [("demo-invalid", CallKind.MISSED), ("demo-expired", CallKind.INCOMING)]
)
def test_a_refused_key_is_not_asked_again_within_the_ttl(owner, demo_upstream, key, kind):
    refused_line = make_line(owner, key)
    first = fetch_batch(refused_line, kind, QUERY)
    second = fetch_batch(refused_line, kind, QUERY.replace(search="other view"))
    assert first.error.code == second.error.code != ""
    assert len(demo_upstream.recorded()) == 1
    # Refresh asks again (the owner may just have renewed the subscription).
    fetch_batch(refused_line, kind, QUERY, refresh=True)
    assert len(demo_upstream.recorded()) == 2


def test_an_expired_subscription_still_lists_missed_calls_while_other_kinds_are_refused(
    owner, demo_upstream
):
    expired = make_line(owner, "demo-expired")
    assert fetch_batch(expired, CallKind.INCOMING, QUERY).error.code == "api_expired"
    missed = fetch_batch(expired, CallKind.MISSED, QUERY)
    assert missed.error is None and missed.batch.calls
