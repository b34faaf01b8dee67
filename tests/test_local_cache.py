"""Per-process caches in front of Redis: the LRU itself, and the two hot paths that use it
(rendered call lists, the access log's throttle)."""

from __future__ import annotations

import re
import time

from django.core.cache import cache
from django.urls import reverse

from dashboard.lines import audit
from dashboard.lines.models import AccessLogEntry
from dashboard.ops.local_cache import LocalCache
from dashboard.ops.safe_cache import SafeCache


class FakeClock:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_lru_forgets_the_least_recently_used_and_the_expired():
    clock = FakeClock()
    local = LocalCache(max_entries=2, clock=clock)
    local.set("a", 1)
    local.set("b", 2)
    assert local.get("a") == 1  # "a" is now the most recent
    local.set("c", 3)
    assert (local.get("a"), local.get("b"), local.get("c")) == (1, None, 3)
    local.set("short", "x", ttl=5)
    clock.now += 5
    assert local.get("short") == "x"  # lives its whole ttl …
    clock.now += 1
    assert local.get("short") is None and local.get("c") == 3  # … and not longer
    LocalCache.clear_all()
    assert local.get("c") is None


def test_a_stored_list_is_served_with_one_read_of_the_shared_cache(owner_client, line, monkeypatch):
    reads = []
    real_get_many = SafeCache.get_many

    def counting_get_many(self, keys):
        reads.append(list(keys))
        return real_get_many(self, keys)

    monkeypatch.setattr(SafeCache, "get_many", counting_get_many)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})

    def listing() -> str:
        html = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()
        return re.search(r"<table.*</table>", html, re.S)[0]

    first = listing()
    reads.clear()
    assert listing() == first and first.count("<tr>") > 10
    # The stored list and its generation in one round trip; no provider answer is read.
    (read,) = [keys for keys in reads if any(k.startswith("views:") for k in keys)]
    assert not any(k.startswith("calls:") for keys in reads for k in keys)
    assert len(read) == 2  # the list, the incoming generation


def test_the_access_throttle_asks_redis_once_per_process(client, line, group_user, monkeypatch):
    adds = []
    real_add = SafeCache.add
    monkeypatch.setattr(
        SafeCache, "add", lambda self, *a, **kw: adds.append(a[0]) or real_add(self, *a, **kw)
    )
    client.force_login(group_user)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
    for _ in range(4):
        client.get(url)
    throttle = f"lines:access-log:{group_user.pk}:{line.pk}:incoming"
    assert adds.count(throttle) == 1
    assert AccessLogEntry.objects.filter(user=group_user, kind="incoming").count() == 1


def test_a_throttle_set_by_another_process_is_believed_until_it_expires(
    rf, line, owner, monkeypatch
):
    clock = FakeClock()
    monkeypatch.setattr(audit._known_logged, "clock", clock)  # this process's copy only
    throttle = f"lines:access-log:{owner.pk}:{line.pk}:missed"
    cache.set(throttle, time.time() + 10, 10)  # another process logged it; 10 s are left
    request = rf.get("/")
    request.user = owner
    audit.record_line_access(request, line, "missed")
    assert AccessLogEntry.objects.count() == 0
    cache.delete(throttle)  # not asked again while the note lasts …
    clock.now += 5
    audit.record_line_access(request, line, "missed")
    assert AccessLogEntry.objects.count() == 0
    clock.now += 6  # … which ends with the key
    audit.record_line_access(request, line, "missed")
    assert AccessLogEntry.objects.count() == 1


def test_another_release_never_serves_this_ones_lists(owner_client, line, monkeypatch, settings):
    """A rolling deploy: two releases share one Redis; each renders its own lists."""
    keys = []
    real_set = SafeCache.set
    monkeypatch.setattr(
        SafeCache,
        "set",
        lambda self, key, *a, **kw: keys.append(key) or real_set(self, key, *a, **kw),
    )
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"})
    owner_client.get(url)
    settings.RELEASE = "the next release"  # what the next build wrote (dashboard/release.py)
    owner_client.get(url)
    lists = [k for k in keys if re.fullmatch(r"views:v1:[0-9a-f]+:\d+:[0-9a-f]{32}", k)]
    assert len(lists) == 2 and lists[0] != lists[1]
