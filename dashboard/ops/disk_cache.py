"""The default cache: diskcache's Django backend in DATA_DIR, one store for every worker
process of the machine (SQLite files in WAL mode: an atomic `add` across processes, reads
that never wait for a writer, no service to run). Redis (`CACHE_URL`) is for several machines.

Three changes to `diskcache.DjangoCache`, each because of how the dashboard uses it:

- **One store per process**, not one per thread: Django builds a backend in every thread,
  and opening the store's eight shards costs ~20 ms (tables, pragmas, a write each). The
  store is thread-safe (diskcache keeps a connection per thread) and reopens after a fork.
- **Connections stay open**: Django closes every cache when a request ends, and reopening
  a shard costs ~0.3 ms against ~15 µs for a read.
- **Writes fail loudly and never spin**: DjangoCache retries a write for as long as SQLite
  answers an error, read-only or corrupt files included (a request would never end), and
  reports a write it gave up on as "not stored" or, for `add`, "already there". Here a
  write waits at most the busy timeout, then raises `StoreUnavailable`, which SafeCache
  turns into "not cached" with one warning.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from diskcache import DjangoCache, FanoutCache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

# Seconds a write waits for another process's write (SQLite's busy timeout). Each write is
# one short transaction, so this is only reached when the store is stuck.
BUSY_TIMEOUT = 2.0
SHARDS = 8


class StoreUnavailable(OSError):
    """A write to the cache store did not happen (read-only, corrupt, or stuck)."""


_stores: dict[tuple, FanoutCache] = {}
_stores_lock = threading.Lock()


def _open(directory: str, shards: int, timeout: float, options: dict) -> FanoutCache:
    return FanoutCache(directory, shards=shards, timeout=timeout, **options)


def _shared(directory: str, shards: int, timeout: float, options: dict) -> FanoutCache:
    """This process's store for these parameters, opened on first use (a failure to open
    is raised each time, so a store repaired later is picked up)."""
    key = (directory, shards, timeout, tuple(sorted(options.items())))
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.get(key)
            if store is None:
                store = _stores[key] = _open(directory, shards, timeout, options)
    return store


class DiskCache(DjangoCache):
    """`diskcache.DjangoCache`, shared per process, with writes that raise when they fail."""

    def __init__(self, directory: str, params: dict) -> None:
        # DjangoCache.__init__ would open a store of its own in every thread (see above).
        BaseCache.__init__(self, params)
        self._cache = _shared(
            str(directory),
            params.get("SHARDS", SHARDS),
            params.get("DATABASE_TIMEOUT", BUSY_TIMEOUT),
            params.get("OPTIONS", {}),
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs) -> bool:
        key = self.make_key(key, version=version)
        expire = self.get_backend_timeout(timeout=timeout)
        if not self._cache.set(key, value, expire, retry=False):
            raise StoreUnavailable("the cache store did not take the write")
        return True

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs) -> bool:
        """True when stored, False when the key is there; raises when the store failed."""
        key = self.make_key(key, version=version)
        expire = self.get_backend_timeout(timeout=timeout)
        # FanoutCache answers False both for "there" and for a write it gave up on: the key's
        # presence tells them apart. Twice, because a key deleted between the two
        # statements (a lock let go) is neither.
        for _attempt in range(2):
            if self._cache.add(key, value, expire, retry=False):
                return True
            if key in self._cache:
                return False
        raise StoreUnavailable("the cache store did not take the write")

    def delete(self, key, version=None, **kwargs) -> bool:
        # Never retried: a delete that did not happen leaves a key that expires anyway.
        return self._cache.delete(self.make_key(key, version=version), retry=False)

    def close(self, **kwargs) -> None:
        """Kept open between requests (see the module's docstring)."""


def check_writable(directory: str | Path) -> None:
    """Open the store in `directory` (creating it), write, read and delete a probe, and
    close it again; raises OSError or sqlite3.Error when it cannot. For start-up, in the
    process that forks the workers: nothing stays open to be inherited."""
    store = _open(str(directory), SHARDS, BUSY_TIMEOUT, {})
    try:
        probe = f"startup-probe:{uuid.uuid4().hex}"
        if not store.set(probe, 1, expire=60, retry=False) or store.get(probe) != 1:
            raise StoreUnavailable("the cache store did not take a write")
        store.delete(probe, retry=False)
    finally:
        store.close()
