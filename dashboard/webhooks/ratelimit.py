"""Deliveries per line per minute, counted in the shared cache (every worker and instance).

A flood to one line's URL (a looping sender, someone who learnt the URL) is answered 429
before any signature is computed or any row written; the provider retries later, so a
real event is delayed, not lost. A cache outage lets deliveries through: refusing them
would lose nothing either, but would pause the destination for no reason.
"""

from __future__ import annotations

import time

from django.conf import settings

from dashboard.ops.safe_cache import safe_cache

WINDOW_SECONDS = 60


def _refused_key(line_id: int) -> str:
    return f"webhooks:rate-refused:{line_id}"


def allow(line_id: int, *, now: float | None = None) -> tuple[bool, int]:
    """Whether one more delivery to `line_id` fits this minute, and seconds until the next."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    # One cache operation per delivery once the minute's counter exists.
    count = safe_cache.incr(f"webhooks:rate:{line_id}:{window}", WINDOW_SECONDS * 2)
    if count is None:  # the cache is down (safe_cache warns once a minute): do not refuse
        return True, 0
    retry_in = WINDOW_SECONDS - int(now % WINDOW_SECONDS)
    allowed = count <= settings.WEBHOOK_RATE_LIMIT
    if not allowed:
        # Counted in the cache, not the line's row: a flood must not become a flood of
        # writes to the one SQLite writer. The Webhook page adds it to the refused count.
        # A count lost with the cache is better than a delivery answered 500.
        safe_cache.incr(_refused_key(line_id), None)
    return allowed, retry_in


def refused_count(line_id: int) -> int:
    """Deliveries to `line_id` answered 429 so far (kept in the cache: lost with it)."""
    return int(safe_cache.get(_refused_key(line_id)) or 0)
