"""The default cache (diskcache in DATA_DIR): one store for every process of the machine,
and a store that breaks at run time costs the cache, never the page.

Each test has a store in its own folder (tmp_path), so parallel runs share nothing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse
from prometheus_client import REGISTRY

from dashboard.calls.cache import fetch_batch
from dashboard.ops.disk_cache import StoreUnavailable
from dashboard.ops.safe_cache import safe_cache
from dashboard.smsmobileapi.demo import DemoUpstream
from dashboard.smsmobileapi.records import CallKind
from tests import test_cache
from tests.conftest import DEMO_NOW, SUPPORT_KEY
from tests.servers import serve_wsgi
from tests.test_cache import MISSED, QUERY, exercise_every_entry_kind, go, results_of, start_workers

# test_cache's fixtures: a switchable upstream on a socket, and a stopped clock.
upstream = test_cache.upstream
clock = test_cache.clock


def disk_caches(location: Path) -> dict:
    return {"default": {"BACKEND": "dashboard.ops.disk_cache.DiskCache", "LOCATION": str(location)}}


@pytest.fixture
def disk(tmp_path) -> Path:
    """The default cache is a disk store in a folder of this test's own."""
    location = tmp_path / "cache"
    with override_settings(CACHES=disk_caches(location)):
        yield location


def test_the_default_install_uses_the_disk_cache_in_data_dir(monkeypatch, tmp_path):
    from tests.envsettings import load_settings

    monkeypatch.delenv("CACHE_URL", raising=False)
    computed = load_settings(monkeypatch, tmp_path)
    assert computed["CACHES"]["default"] == {
        "BACKEND": "dashboard.ops.disk_cache.DiskCache",
        "LOCATION": str(tmp_path / "cache"),
    }
    with_redis = load_settings(monkeypatch, tmp_path, CACHE_URL="redis://127.0.0.1:6379/0")
    assert with_redis["CACHES"]["default"]["BACKEND"] == "dashboard.ops.redis_cache.RedisCache"


def test_add_is_the_lock_a_second_add_does_not_take(disk):
    cache = caches["default"]
    assert cache.add("lock", "first", timeout=30) is True
    assert cache.add("lock", "second", timeout=30) is False
    assert cache.get("lock") == "first"
    cache.delete("lock")
    assert cache.add("lock", "third", timeout=30) is True


def test_an_expired_key_can_be_added_again(disk):
    cache = caches["default"]
    cache.add("lock", "first", timeout=0.05)
    time.sleep(0.1)  # past its expiry (diskcache reads the real clock)
    assert cache.add("lock", "second", timeout=30) is True


def test_every_thread_of_a_process_sees_one_store(disk):
    caches["default"].set("seen", "here", timeout=30)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(caches["default"].get("seen")))
    thread.start()
    thread.join()
    assert seen == ["here"]


def test_the_store_stays_usable_after_django_closes_it_at_the_end_of_a_request(disk):
    cache = caches["default"]
    cache.set("kept", 1, timeout=30)
    cache.close()
    assert cache.get("kept") == 1
    cache.set("kept", 2, timeout=30)
    assert cache.get("kept") == 2


def test_single_flight_holds_across_processes_sharing_the_disk_cache(tmp_path):
    key = f"demo-{uuid.uuid4().hex[:12]}"
    upstream = DemoUpstream(clock=lambda: DEMO_NOW, latency=0.5, record_requests=True)
    with serve_wsgi(upstream) as base_url:
        workers = start_workers(f"disk:{tmp_path / 'cache'}", base_url, count=2, threads=6, key=key)
        for worker in workers:
            go(worker)  # both processes at once
        sources = [s for worker in workers for s in results_of(worker)]

    assert upstream.calls_to(MISSED) == 1
    assert sorted(sources) == ["cache"] * 11 + ["upstream"]


def test_the_disk_cache_holds_neither_the_key_nor_its_echo(disk, owner, upstream, clock):
    exercise_every_entry_kind(owner, upstream, clock)
    assert upstream.app.recorded()[0].params["apikey"] == SUPPORT_KEY
    files = [path for path in disk.rglob("*") if path.is_file()]
    assert any(path.name == "cache.db" for path in files)
    for path in files:
        assert SUPPORT_KEY.encode() not in path.read_bytes(), path


# A store that breaks at run time ----------------------------------------------------


def blocked(location: Path) -> None:
    """A file where the store's folder should be: nothing can create it, root included."""
    location.write_text("not a folder")


def corrupt(location: Path) -> None:
    """Every shard's database file is garbage (a disk that lost it, a bad copy)."""
    for shard in range(8):
        folder = location / f"{shard:03d}"
        folder.mkdir(parents=True)
        (folder / "cache.db").write_bytes(b"\x00garbage, not SQLite\x00" * 300)


@pytest.mark.parametrize("breaks", [blocked, corrupt])
def test_a_broken_store_serves_every_page_uncached_with_one_log_line(
    owner_client, line, demo_upstream, tmp_path, caplog, breaks
):
    location = tmp_path / "cache"
    breaks(location)
    target = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    with override_settings(CACHES=disk_caches(location)), caplog.at_level(logging.WARNING):
        pages = [owner_client.get(target) for _ in range(3)]
        partial = owner_client.get(target + "?q=%2B32", HTTP_HX_REQUEST="true")

    assert [p.status_code for p in pages] == [200, 200, 200] and partial.status_code == 200
    assert all("<tbody>" in p.content.decode() for p in pages)
    # Uncached: every page asked the provider.
    assert demo_upstream.calls_to(MISSED) == 4
    assert len(caplog.records) == 1, [r.getMessage() for r in caplog.records]
    (record,) = caplog.records
    assert record.name == "dashboard.ops.safe_cache"
    assert "serving without the cache" in record.getMessage()
    assert SUPPORT_KEY not in caplog.text


def test_a_write_the_store_refuses_raises_instead_of_reading_as_stored(disk, monkeypatch):
    cache = caches["default"]
    store = cache._cache
    # What FanoutCache answers when SQLite gave up on the write (it swallows the error).
    monkeypatch.setattr(store, "add", lambda *args, **kwargs: False)
    monkeypatch.setattr(store, "set", lambda *args, **kwargs: False)
    with pytest.raises(StoreUnavailable):
        cache.add("lock", "x", timeout=30)
    with pytest.raises(StoreUnavailable):
        cache.set("entry", "x", timeout=30)
    # Through SafeCache: no lock to share, nothing stored, and no exception for the page.
    assert safe_cache.add("lock", "x", 30) is None
    safe_cache.set("entry", "x", 30)


def test_a_busy_store_is_not_taken_for_a_held_lock(disk, line, demo_upstream, monkeypatch):
    """A lock that could not be written is "no cache" (fetch now), not "someone else holds
    it" (wait for an answer that never comes)."""
    store = caches["default"]._cache
    monkeypatch.setattr(store, "add", lambda *args, **kwargs: False)
    waits = REGISTRY.get_sample_value("calls_dashboard_single_flight_waits_total")
    fetched = fetch_batch(line, CallKind.MISSED, QUERY)
    assert fetched.source == "upstream" and fetched.batch is not None
    assert demo_upstream.calls_to(MISSED) == 1
    assert REGISTRY.get_sample_value("calls_dashboard_single_flight_waits_total") == waits


@override_settings(WEBHOOK_RATE_LIMIT=2)
def test_the_webhook_rate_limit_counts_on_the_disk_store(disk):
    # The limiter lets deliveries through when the store fails: on the default install's
    # store it must actually count (incr of a new minute's key raises ValueError there too).
    from dashboard.webhooks import ratelimit

    now = 1_800_000_000.0
    assert [ratelimit.allow(7, now=now)[0] for _ in range(3)] == [True, True, False]
    assert ratelimit.allow(8, now=now)[0] is True  # another line
    assert ratelimit.allow(7, now=now + 60)[0] is True  # the next minute
    assert ratelimit.refused_count(7) == 1
