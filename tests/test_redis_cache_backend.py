"""The Redis backend that `CACHE_URL=redis://…` selects: Django's own, keeping one client
object per connection pool instead of building one per cache operation."""

from __future__ import annotations

import threading
import uuid

from dashboard.ops.redis_cache import RedisCache
from tests.envsettings import load_settings
from tests.test_cache import redis_or_fail

# A database of its own: other tests flush theirs (cache.clear()) while this one runs.
REDIS_URL = "redis://127.0.0.1:6379/8"


def test_a_redis_cache_url_selects_this_backend(monkeypatch, tmp_path):
    settings = load_settings(monkeypatch, tmp_path, CACHE_URL="redis://127.0.0.1:6379/4")
    assert settings["CACHES"]["default"]["BACKEND"] == "dashboard.ops.redis_cache.RedisCache"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/4"


def test_every_operation_goes_through_one_client_shared_safely_by_threads():
    redis_or_fail()
    prefix = f"backend-test-{uuid.uuid4().hex}"
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    client = backend._cache.get_client(write=True)
    assert backend._cache.get_client() is client
    assert backend._cache.get_client("some-key", write=False) is client

    errors: list[str] = []

    def worker(n: int) -> None:
        for i in range(100):
            key = f"k{n}-{i}"
            backend.set(key, {"n": n, "i": i}, 30)
            if backend.get(key) != {"n": n, "i": i}:
                errors.append(f"{key}: read another thread's value")
            if backend.add(key, "again", 30):
                errors.append(f"{key}: add succeeded on an existing key")
            if backend.get_many([key, f"absent{n}"]) != {key: {"n": n, "i": i}}:
                errors.append(f"{key}: get_many")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert backend.get("k7-99") == {"n": 7, "i": 99}
    finally:
        backend.delete_many([f"k{n}-{i}" for n in range(8) for i in range(100)])
