"""Sessions: Django's cached_db store, with a cache outage read as "not cached".

A page served from the cache cost a database query for the session alone. The cached_db
store reads the session from the shared cache (diskcache in DATA_DIR, or Redis) and
writes it through to the database, so every instance still sees every login and logout,
and an empty or evicted cache costs one query, as before. Django's own store lets a
failing cache raise on a read that fell back to the database (its `set`) and on logout
(its `delete`): here every cache operation goes through `safe_cache`, so a Redis outage
degrades to the database store (one warning a minute) and logs nobody out.

Revocation stays exact: the user row (active, password hash) is still read on every
request, and logging out or rotating the key deletes the cached copy along with the row.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

from dashboard.ops.safe_cache import safe_cache


class _SessionCache:
    """The four cache operations Django's cached_db store uses, none of them raising."""

    def get(self, key: str) -> Any:
        return safe_cache.get(key)

    def set(self, key: str, value: object, timeout: float) -> None:
        # Kept as long as the session lives (its expiry age), never longer.
        if timeout <= 0:  # already expired: nothing to keep
            safe_cache.delete(key)
            return
        safe_cache.set(key, value, timeout)

    def delete(self, key: str) -> None:
        safe_cache.delete(key)

    def __contains__(self, key: str) -> bool:
        return safe_cache.get(key) is not None

    async def aget(self, key: str) -> Any:
        return await sync_to_async(self.get)(key)

    async def aset(self, key: str, value: object, timeout: float) -> None:
        await sync_to_async(self.set)(key, value, timeout)

    async def adelete(self, key: str) -> None:
        await sync_to_async(self.delete)(key)


class SessionStore(cached_db.SessionStore):
    """Django's cached_db session store over `safe_cache` (see the module docstring)."""

    def __init__(self, session_key: str | None = None) -> None:
        # Not cached_db's own __init__: it opens the cache backend, which raises when the
        # disk store cannot be opened (safe_cache opens it inside its own guard).
        DBStore.__init__(self, session_key)
        self._cache = _SessionCache()
