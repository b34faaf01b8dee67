"""Bringing a line's inbox up to date with the provider.

The provider has no "since" parameter and no call ids, so a sync reads the newest calls of
each kind in the endpoints' largest pages (200 rows), through the calls cache (the very
chunks `followup/later.py` reads for incoming and outgoing calls, so they are shared), and
files them (`episodes.record_calls`). The three kinds are read side by side, each only as
deep as needed: missed calls back to the newest one already filed, incoming and outgoing
back to the oldest open episode, never further than `SYNC_MAX_CHUNKS` chunks nor
`SYNC_LOOKBACK` back. Episodes persist, so each sync only has the newest rows to read.
A kind's first chunk shows how densely its calls come; the further chunks that pace says
are needed are then read side by side (`chunks_needed`), so a deep read takes two round
trips to the provider, not one per chunk (when the pace misleads, a chunk more than
needed is read and dropped, or a third round follows).

A sync runs at most once per `CALLS_CACHE_TTL` per line across processes (the first
request after that does it; the others read the database as it is), so a cache hit costs
one cache lookup and the inbox's own queries.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Max, Min
from django.utils import timezone

from dashboard.calls.cache import fetch_batch
from dashboard.inbox.episodes import Recorded, record_calls
from dashboard.inbox.models import Attempt, CallerStatus, Episode
from dashboard.lines.key_check import page_checks_written_here
from dashboard.lines.models import Line
from dashboard.ops.local_cache import LocalCache
from dashboard.ops.safe_cache import safe_cache
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind, CallQuery

CHUNK = 200  # the endpoints' maximum page, and later.py's chunk: the same cache entries
SYNC_MAX_CHUNKS = 3  # per kind and sync: 600 rows
SYNC_LOOKBACK = timedelta(days=30)  # a first sync files missed calls this far back

# (rows, rows the provider sent, when fetched) or the error.
ChunkReader = Callable[
    [CallKind, int], tuple[tuple[Call, ...], int, datetime | None] | UpstreamError | None
]

_synced_here = LocalCache(max_entries=4096)


@dataclass(frozen=True)
class Failure:
    error: UpstreamError | None  # None: failed for a reason the cache did not keep


@dataclass
class SyncResult:
    recorded: Recorded = field(default_factory=Recorded)
    errors: dict[CallKind, UpstreamError | None] = field(default_factory=dict)
    fetched_at: datetime | None = None  # the oldest chunk read: "updated N ago"
    ran: bool = True
    complete: dict[CallKind, bool] = field(default_factory=dict)

    @property
    def error(self) -> UpstreamError | None:
        """The first failure, for one banner (None when everything was read)."""
        return next((e for e in self.errors.values() if e is not None), None)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


def chunk_reader(line: Line, *, refresh: bool = False) -> ChunkReader:
    def read(kind: CallKind, offset: int):
        fetched = fetch_batch(
            line, kind, CallQuery(offset=offset, limit=CHUNK, tz_name="UTC"), refresh=refresh
        )
        if fetched.batch is None:
            return fetched.error
        return fetched.batch.calls, fetched.batch.sent, fetched.fetched_at

    return read


def sync_line(
    line: Line,
    *,
    refresh: bool = False,
    reader: ChunkReader | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Read the newest calls of every kind and file them; never raises for the provider."""
    read = reader or chunk_reader(line, refresh=refresh)
    now = now or timezone.now()
    horizon = now - SYNC_LOOKBACK
    newest_filed = Attempt.objects.filter(line=line).aggregate(m=Max("called_at"))["m"]
    oldest_open = Episode.objects.filter(line=line, status=CallerStatus.OPEN).aggregate(
        m=Min("first_attempt_at")
    )["m"]
    missed_until = max(horizon, newest_filed) if newest_filed else horizon
    # Callbacks can only follow an open episode, or a missed call read in this sync.
    contacts_until = max(horizon, min(oldest_open or missed_until, missed_until))
    result = SyncResult()
    calls: list[Call] = []
    stops = {
        CallKind.MISSED: missed_until,
        CallKind.INCOMING: contacts_until,
        CallKind.OUTGOING: contacts_until,
    }

    def read_kind(kind: CallKind) -> tuple[list[Call], Failure, bool, datetime | None]:
        rows: list[Call] = []
        oldest_fetch = None
        chunk = 0
        while chunk < SYNC_MAX_CHUNKS:
            width = 1 if chunk == 0 else chunks_needed(rows, stops[kind], SYNC_MAX_CHUNKS - chunk)
            offsets = [(chunk + n) * CHUNK for n in range(width)]
            chunk += width
            # Handled in order; chunks read past the one that reaches the stop are dropped.
            for got in read_side_by_side(kind, offsets):
                if got is None or isinstance(got, UpstreamError):
                    return rows, Failure(got), False, oldest_fetch
                batch, sent, fetched_at = got
                if fetched_at and (oldest_fetch is None or fetched_at < oldest_fetch):
                    oldest_fetch = fetched_at
                rows.extend(batch)
                if sent < CHUNK or (batch and min(c.started_at for c in batch) <= stops[kind]):
                    return rows, None, True, oldest_fetch
        return rows, None, False, oldest_fetch

    def read_side_by_side(kind: CallKind, offsets: list[int]) -> list:
        if len(offsets) == 1:
            return [read(kind, offsets[0])]
        with ThreadPoolExecutor(max_workers=len(offsets)) as chunks:
            return list(
                chunks.map(
                    lambda offset, ctx: ctx.run(in_thread, read, kind, offset),
                    offsets,
                    [contextvars.copy_context() for _ in offsets],
                )
            )

    kinds = list(stops)
    with page_checks_written_here(), ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        futures = {
            kind: pool.submit(contextvars.copy_context().run, in_thread, read_kind, kind)
            for kind in kinds
        }
        for kind, future in futures.items():
            rows, failure, complete, fetched_at = future.result()
            calls.extend(rows)
            result.complete[kind] = complete
            if failure is not None:
                result.errors[kind] = failure.error
            if fetched_at and (result.fetched_at is None or fetched_at < result.fetched_at):
                result.fetched_at = fetched_at
    # Detection only from kinds that were read: a failed kind just closes nothing now.
    result.recorded = record_calls(line, [c for c in calls if c.started_at >= horizon])
    return result


def in_thread(function: Callable, *args: object):
    """Run `function` in a pool thread: a database connection it opens is closed with it
    (connections are per thread and must not outlive it)."""
    try:
        return function(*args)
    finally:
        connections.close_all()


def chunks_needed(rows: list[Call], stop: datetime, most: int) -> int:
    """How many more chunks of CHUNK rows reach back to `stop`, judged from how densely
    the calls read so far (newest first) come; at least one, at most `most`."""
    if not rows:
        return 1
    newest, oldest = rows[0].started_at, rows[-1].started_at
    if oldest <= stop:
        return 1
    span = (newest - oldest).total_seconds()
    if span <= 0:
        return most  # all at one moment: no idea of the pace, read as far as allowed
    per_second = len(rows) / span
    needed = math.ceil((oldest - stop).total_seconds() * per_second / CHUNK)
    return max(1, min(most, needed))


def sync_if_due(line: Line, *, refresh: bool = False) -> SyncResult:
    """Sync the line unless another request did within `CALLS_CACHE_TTL`; then a result
    that did not run (`ran` False) with that sync's time, for "Checked N ago"."""
    key = f"inbox:synced:{line.pk}"
    # The key holds when the last sync's rows were read (a POSIX timestamp), so a request
    # that skips the sync still says how fresh the inbox is.
    if not refresh:
        ttl = float(settings.CALLS_CACHE_TTL)
        synced_at = _synced_here.get(key)
        if synced_at:
            return _skipped(synced_at)
        started = timezone.now().timestamp()
        first = safe_cache.add(key, started, ttl)
        if first is False:  # another process synced in this interval
            synced_at = safe_cache.get(key) or started
            _synced_here.set(key, synced_at, ttl=ttl)
            return _skipped(synced_at)
        _synced_here.set(key, started, ttl=ttl)
    result = sync_line(line, refresh=refresh)
    ttl = float(settings.CALLS_CACHE_TTL)
    if result.failed:
        # Try again on the next request rather than showing an outage for a whole TTL.
        _synced_here.set(key, None, ttl=0)
        safe_cache.delete(key)
    elif result.fetched_at:
        synced_at = result.fetched_at.timestamp()
        _synced_here.set(key, synced_at, ttl=ttl)
        safe_cache.set(key, synced_at, ttl)
    return result


def last_sync(line: Line) -> SyncResult:
    """When the line was last synced, without syncing (pages drawn after a change)."""
    key = f"inbox:synced:{line.pk}"
    return _skipped(_synced_here.get(key) or safe_cache.get(key))


def _skipped(synced_at: object) -> SyncResult:
    if not synced_at:
        return SyncResult(ran=False)
    try:
        fetched_at = datetime.fromtimestamp(float(synced_at), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        fetched_at = None  # an old entry (before timestamps) or a foreign value
    return SyncResult(ran=False, fetched_at=fetched_at)
