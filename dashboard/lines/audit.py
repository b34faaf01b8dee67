"""The audit trail (who changed which line) and the access log (who read which line's calls).

Neither ever stores a key: audit details hold hints ("…a1b2"), names and statuses only.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils import timezone

from dashboard.lines.models import AccessLogEntry, AuditAction, AuditEvent, Line
from dashboard.ops.local_cache import LocalCache
from dashboard.ops.safe_cache import safe_cache

# One access-log row per user, line and kind per this interval: enough to answer "who
# read this line's calls, and when", without a database write on every page turn.
ACCESS_LOG_INTERVAL = timedelta(minutes=5)
# Throttle keys this process knows to be set, so a page turn skips the shared cache.
_known_logged = LocalCache(max_entries=4096)
COMMAND_LINE_ACTOR = "(command line)"


def record(
    line: Line,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: AuditAction,
    *,
    actor_name: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event to `line`'s trail. `details` must never hold a key in clear.
    Without a user, `actor_name` names who acted (default: the command line)."""
    is_user = actor is not None and actor.is_authenticated
    return AuditEvent.objects.create(
        line=line if line.pk else None,
        line_ref=line.pk,
        line_label=line.label,
        line_owner_id=line.owner_id,
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else (actor_name or COMMAND_LINE_ACTOR),
        action=action,
        details=details,
    )


def record_line_access(request: HttpRequest, line: Line, kind: str) -> None:
    """Note that the request's user opened `kind` on `line` (throttled, see above)."""
    user = request.user
    if not user.is_authenticated:
        return
    # cache.add is atomic: only the first request in the interval writes a row. The cache
    # key holds ids only, never anything derived from the API key.
    throttle_key = f"lines:access-log:{user.pk}:{line.pk}:{kind}"
    if _known_logged.get(throttle_key):  # logged in this interval: no need to ask the cache
        return
    interval = ACCESS_LOG_INTERVAL.total_seconds()
    # The shared key holds its own expiry (epoch seconds), so any process that finds it set
    # knows how long to believe it without asking again.
    first_in_interval = safe_cache.add(throttle_key, time.time() + interval, interval)
    if first_in_interval is False:  # another process logged it
        until = safe_cache.get(throttle_key)
        if isinstance(until, int | float):  # else expired meanwhile, or an older version's
            _known_logged.set(throttle_key, True, ttl=until - time.time())
        return
    if first_in_interval:
        _known_logged.set(throttle_key, True, ttl=interval)
    # None: the cache is down (safe_cache warned); log every access rather than fail the page.
    AccessLogEntry.objects.create(
        user=user, username=user.get_username(), line=line, line_label=line.label, kind=kind
    )


def retention_days() -> int:
    return int(settings.ACCESS_LOG_RETENTION_DAYS)


def prune_access_log(days: int | None = None, *, dry_run: bool = False) -> int:
    """Delete access-log rows older than `days` (default: the setting); returns how many."""
    cutoff = timezone.now() - timedelta(days=retention_days() if days is None else days)
    old = AccessLogEntry.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return old.count()
    deleted, _per_model = old.delete()
    return deleted
