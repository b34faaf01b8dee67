"""What stored call events change, run after the deliveries were acknowledged.

Each event is stored with `effects_pending` set (before its 202). After the answer the
receiver drains the line: one process at a time per line (a lock in the cache) takes
every pending event of that line in one transaction — the inbox files them together and
the flag is cleared in the same commit — so a burst costs one inbox transaction per
batch, not per delivery, and a process killed mid-way leaves its events pending: the
worker's `sweep` runs them. No effect may fail the delivery: the event is stored
whatever happens here, and the next list read from the provider shows the call anyway.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from dashboard.lines.models import Line
from dashboard.ops.safe_cache import safe_cache
from dashboard.webhooks.envelope import KIND_OF
from dashboard.webhooks.models import WebhookEvent

logger = logging.getLogger("dashboard.webhooks")

# Events per transaction: one burst's backlog, bounded so the one SQLite writer is never
# held long.
BATCH = 200
# A drainer killed with the lock held blocks its line's drains this long at most; the
# sweep then runs what it left.
LOCK_SECONDS = 30
# The sweep leaves younger pending events to the drain that is surely running for them.
SWEEP_AFTER = timedelta(seconds=LOCK_SECONDS + 5)


def _lock_key(line_id: int) -> str:
    return f"webhooks:effects-lock:{line_id}"


def drain(line_id: int) -> int:
    """Run the effects of every pending event of `line_id`, unless another process is
    already doing so (it will take ours too); returns how many events this call ran."""
    done = 0
    while True:
        locked = safe_cache.add(_lock_key(line_id), 1, LOCK_SECONDS)
        if locked is False:
            # Another drainer holds the line: it looks for pending events again after it
            # lets go, and ours was committed before we looked (the receiver stores first).
            return done
        try:
            # A full batch may leave more; a short one took all there was when it looked.
            while (ran := _run_batch(line_id)) == BATCH:
                done += ran
            done += ran
        finally:
            if locked:  # None: the cache is down, no lock was taken (the claim is atomic)
                safe_cache.delete(_lock_key(line_id))
        # An event stored while we held the lock, whose drain gave up on seeing it held.
        if locked is None or not _has_pending(line_id):
            return done


def sweep() -> int:
    """Drain every line left with events pending by a process that died after storing
    them (called by the worker's scheduler); returns how many events it ran."""
    stale = timezone.now() - SWEEP_AFTER
    lines = set(
        WebhookEvent.objects.filter(effects_pending=True, received_at__lt=stale)
        .order_by()
        .values_list("line_id", flat=True)
        .distinct()
    )
    done = sum(drain(line_id) for line_id in lines)
    if done:
        logger.warning("webhook effects: %s event(s) left pending by a stopped process ran", done)
    return done


def _table() -> str:
    # The model's own table name, quoted: the only text formatted into the SQL below.
    return connection.ops.quote_name(WebhookEvent._meta.db_table)


def _has_pending(line_id: int) -> bool:
    with connection.cursor() as cursor:
        # The table name only is formatted in; values are parameters.
        cursor.execute(
            f"SELECT 1 FROM {_table()} WHERE line_id = %s AND effects_pending = %s LIMIT 1",  # noqa: S608
            [line_id, True],
        )
        return cursor.fetchone() is not None


def _claim(line_id: int) -> list[WebhookEvent]:
    """Up to BATCH of the line's pending events, oldest first, their flag cleared in the
    caller's transaction (one statement: a burst's drain is the hot path)."""
    # skip_locked: on PostgreSQL a second drainer (the lock lost with the cache) takes
    # other rows instead of waiting; SQLite's immediate transactions serialise anyway.
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET effects_pending = %s WHERE id IN ("  # noqa: S608
            f"SELECT id FROM {table} WHERE line_id = %s AND effects_pending = %s"
            f" ORDER BY id LIMIT %s{lock}) RETURNING id, type, call",
            [False, line_id, True, BATCH],
        )
        rows = cursor.fetchall()
    return [
        WebhookEvent(
            pk=pk,
            line_id=line_id,
            type=kind,
            call=call if isinstance(call, dict) else json.loads(call),
        )
        for pk, kind, call in sorted(rows)
    ]


def _run_batch(line_id: int) -> int:
    with transaction.atomic():
        events = _claim(line_id)
        if not events:
            return 0
        line = Line.objects.get(pk=line_id)
        kinds = {KIND_OF[e.type] for e in events if e.type in KIND_OF}
        # Before the commit: marking stale twice (a batch run again after a crash) is
        # harmless, never marking it is not.
        _guarded(_stale_cache, line, kinds, events)
        try:
            with transaction.atomic():  # a savepoint: a failed filing keeps the claim
                _inbox(line, kinds, events)
        except Exception:
            logger.exception("webhook effect _inbox failed for line %s", line_id)
    # After the commit: open views that hear of the calls ask for the new inbox count.
    _guarded(_live, line, kinds, events)
    return len(events)


def _guarded(effect, line: Line, kinds: set[str], events: list[WebhookEvent]) -> None:
    try:
        effect(line, kinds, events)
    except Exception:
        logger.exception("webhook effect %s failed for line %s", effect.__name__, line.pk)


def _stale_cache(line: Line, kinds: set[str], events: list[WebhookEvent]) -> None:
    from dashboard.calls.cache import mark_views_stale
    from dashboard.smsmobileapi.records import CallKind

    for kind in sorted(kinds):
        mark_views_stale(line, CallKind(kind))


def _live(line: Line, kinds: set[str], events: list[WebhookEvent]) -> None:
    from dashboard.live.channel import announce

    if kinds:
        announce(line.pk)


def _inbox(line: Line, kinds: set[str], events: list[WebhookEvent]) -> None:
    # A missed call opens or extends the caller's episode; an incoming or outgoing one may
    # close it (called back, reached). The provider's list files the same calls again
    # later: the inbox skips calls it already has.
    from dashboard.inbox.episodes import record_calls

    calls = [e.as_call() for e in events if e.type in KIND_OF]
    # Events are stored once (their unique id), so almost never filed yet: no read-only
    # check first, and no read back of the episodes (nobody here needs them).
    if calls:
        record_calls(line, calls, check_filed=False)
