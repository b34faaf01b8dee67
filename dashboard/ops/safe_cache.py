"""Django's cache, made safe: a cache outage (Redis down; the disk store read-only, full or
corrupt, raising OSError or sqlite3 errors) reads as "not cached" and logs one warning a
minute per process, instead of turning every page into a 500."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


class SafeCache:
    """Django's default cache; any failure logs a warning and reads as "not cached"."""

    _warned_at = 0.0
    _warn_lock = threading.Lock()
    WARN_EVERY = 60.0  # a broken cache must not write a warning per request

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        try:
            return cache.get_many(keys)
        except Exception as exc:
            self._warn("read", exc)
            return {}

    def get(self, key: str) -> Any:
        return self.get_many([key]).get(key)

    def add(self, key: str, value: object, timeout: float) -> bool | None:
        """True when added, False when the key exists, None when the cache is unusable."""
        try:
            return cache.add(key, value, timeout=_timeout(timeout))
        except Exception as exc:
            self._warn("lock", exc)
            return None

    def set(self, key: str, value: object, timeout: float) -> None:
        try:
            cache.set(key, value, timeout=_timeout(timeout))
        except Exception as exc:
            self._warn("write", exc)

    def set_many(self, values: dict[str, object], timeout: float) -> None:
        """Several keys in one round trip."""
        try:
            cache.set_many(values, timeout=_timeout(timeout))
        except Exception as exc:
            self._warn("write", exc)

    def incr(self, key: str, timeout: float | None) -> int | None:
        """Add one to a counter that lives `timeout` seconds (None: for good; 1 when new);
        None when the cache is unusable."""
        try:
            try:
                return cache.incr(key)
            except ValueError:  # no counter yet; `add` settles the race of two first ones
                if cache.add(key, 1, timeout=None if timeout is None else _timeout(timeout)):
                    return 1
                return cache.incr(key)
        except Exception as exc:
            self._warn("count", exc)
            return None

    def delete(self, key: str) -> None:
        self.delete_many([key])

    def delete_many(self, keys: list[str]) -> None:
        """Several keys in one round trip."""
        try:
            cache.delete_many(keys)
        except Exception as exc:
            self._warn("delete", exc)

    @classmethod
    def _warn(cls, operation: str, exc: Exception) -> None:
        with cls._warn_lock:
            now = time.monotonic()
            if cls._warned_at and now - cls._warned_at < cls.WARN_EVERY:
                return
            cls._warned_at = now
        # The exception's type and text only: cache errors do not hold API keys, but
        # their tracebacks would hold the values being written.
        logger.warning(
            "cache %s failed (%s: %s); serving without the cache",
            operation,
            type(exc).__name__,
            exc,
        )


def _timeout(seconds: float) -> int:
    # Whole seconds: Redis' SET EX and the memcached protocol take integers.
    return max(1, math.ceil(seconds))


safe_cache = SafeCache()
