"""Django's Redis cache backend, with one `redis.Redis` client per connection pool.

Django's client builds a new `redis.Redis` for every cache operation, and each one copies
redis-py's ~170 response callbacks: about a third of a millisecond a call, several calls a
page. A client over a pool is thread-safe (redis-py documents it), so one is kept per pool.
Selected by `CACHE_URL=redis://…` (settings.py); behaviour is otherwise Django's own.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
