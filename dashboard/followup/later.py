""" "Answered later": a missed call followed by an incoming or outgoing call with the same
(normalised) number, on the same line.

Where the data comes from, cheaply: one shared window of the line's newest incoming and
outgoing calls, without any filter, read newest first in fixed chunks of 200 (the
endpoints' maximum) and only as deep as the oldest missed call on screen. Every chunk is
the same upstream query for every page, screen and user of the line, so the cache serves
it after the first read. The depth is capped (`MAX_CHUNKS`); a missed call older than what
was read is "not checked", never wrongly "open" or "answered". The caller page already
holds every call of its number and builds the index from those instead.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.db import connections

from dashboard.calls.cache import ViewCache, fetch_batch
from dashboard.calls.exact import SHARED_CHUNK, newest_first
from dashboard.calls.phone import number_key
from dashboard.lines.key_check import page_checks_written_here
from dashboard.lines.models import Line
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind

LATER_KINDS = (CallKind.INCOMING, CallKind.OUTGOING)
CHUNK = SHARED_CHUNK  # the tables' first pages read the same chunks (calls/exact.py)
# 3 x 200 rows per kind: days to weeks of a busy support line.
MAX_CHUNKS = 3

# (the calls, how many rows the provider sent), or the error (None if unknown) when it failed.
ChunkFetcher = Callable[[CallKind, int, int], tuple[Sequence[Call], int] | UpstreamError | None]


@dataclass(frozen=True)
class Later:
    """For one missed call: `at` is the latest later contact; `known` False means the
    window read did not reach back far enough (or the provider failed) to say."""

    at: datetime | None
    known: bool

    @property
    def answered(self) -> bool:
        return self.at is not None


class LaterContacts:
    """The latest incoming/outgoing call per number, read lazily newest first."""

    def __init__(self, fetch: ChunkFetcher, region: str, *, max_chunks: int = MAX_CHUNKS):
        self.fetch = fetch
        self.region = region
        self.max_chunks = max_chunks
        self.latest: dict[str, datetime] = {}
        # Per kind: the oldest call time read, whether the list ended, chunks read, failed.
        self._oldest: dict[CallKind, datetime | None] = dict.fromkeys(LATER_KINDS)
        self._done: dict[CallKind, bool] = dict.fromkeys(LATER_KINDS, False)
        self._chunks: dict[CallKind, int] = dict.fromkeys(LATER_KINDS, 0)
        self._failed: dict[CallKind, UpstreamError | None] = {}
        self._lock = threading.Lock()
        self._restored_chunks = 0
        # Where the index is stored for the line's other viewers, and until when the
        # stored one it started from is fresh (later_contacts).
        self.shared: ViewCache | None = None
        self.shared_until: float | None = None

    @classmethod
    def from_calls(cls, calls: Iterable[Call], region: str) -> LaterContacts:
        """An index over calls already in hand (complete: nothing more will be read)."""
        index = cls(lambda kind, offset, limit: ((), 0), region, max_chunks=0)
        index._add(c for c in calls if c.kind in LATER_KINDS)
        index._done = dict.fromkeys(LATER_KINDS, True)
        return index

    def _add(self, calls: Iterable[Call]) -> None:
        keyed = [(number_key(call.number, self.region), call.started_at) for call in calls]
        with self._lock:  # the two kinds may be read in parallel threads
            for key, started_at in keyed:
                if key and (key not in self.latest or started_at > self.latest[key]):
                    self.latest[key] = started_at

    def _covers(self, kind: CallKind, when: datetime) -> bool:
        oldest = self._oldest[kind]
        # Newest first: once a row at or before `when` was read, every later call was too.
        return self._done[kind] or (oldest is not None and oldest <= when)

    def _read_back_to(self, when: datetime) -> None:
        kinds = [k for k in LATER_KINDS if self._needs_reading(k, when)]
        if len(kinds) < 2:
            for kind in kinds:
                self._read_kind(kind, when)
            return
        # Incoming and outgoing are independent upstream reads: on a cold cache, doing them
        # side by side halves the wait. copy_context keeps the request log's fields.
        with page_checks_written_here(), ThreadPoolExecutor(max_workers=len(kinds)) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, self._read_kind_in_thread, kind, when)
                for kind in kinds
            ]
            for future in futures:
                future.result()

    def _needs_reading(self, kind: CallKind, when: datetime) -> bool:
        return (
            not self._covers(kind, when)
            and kind not in self._failed
            and self._chunks[kind] < self.max_chunks
        )

    def _read_kind_in_thread(self, kind: CallKind, when: datetime) -> None:
        try:
            self._read_kind(kind, when)
        finally:
            # Database connections are per thread; one opened here must not outlive it.
            connections.close_all()

    def _read_kind(self, kind: CallKind, when: datetime) -> None:
        while self._needs_reading(kind, when):
            fetched = self.fetch(kind, self._chunks[kind] * CHUNK, CHUNK)
            if fetched is None or isinstance(fetched, UpstreamError):
                self._failed[kind] = fetched
                return
            rows, sent = fetched
            self._chunks[kind] += 1
            self._add(rows)
            if rows:
                self._oldest[kind] = min(c.started_at for c in rows)
            if sent < CHUNK:
                self._done[kind] = True

    # Stored for every viewer of the line (calls/cache.py ViewCache, "later") ---------------

    def restore(self, snapshot: object) -> bool:
        """Start from a stored index instead of reading its chunks again."""
        if not isinstance(snapshot, dict) or snapshot.get("region") != self.region:
            return False
        try:
            self.latest = dict(snapshot["latest"])
            self._oldest = dict(snapshot["oldest"])
            self._done = dict(snapshot["done"])
            self._chunks = dict(snapshot["chunks"])
        except (KeyError, TypeError, ValueError):
            return False
        self._restored_chunks = sum(self._chunks.values())
        return True

    def snapshot(self) -> dict:
        return {
            "region": self.region,
            "latest": self.latest,
            "oldest": self._oldest,
            "done": self._done,
            "chunks": self._chunks,
        }

    @property
    def read_more(self) -> bool:
        """Chunks were read since the index was made or restored (it is worth storing)."""
        return sum(self._chunks.values()) > self._restored_chunks and not self._failed

    @property
    def failures(self) -> dict[CallKind, UpstreamError | None]:
        """The kinds that could not be read so far, and why: every "not checked" row's cause."""
        return dict(self._failed)

    def after(self, number: str, when: datetime) -> Later:
        """Was `number` called, or did it call and get answered, after `when`?"""
        key = number_key(number, self.region)
        if not key:
            return Later(None, known=False)
        self._read_back_to(when)
        latest = self.latest.get(key)
        if latest is not None and latest > when:
            return Later(latest, known=True)
        return Later(None, known=all(self._covers(k, when) for k in LATER_KINDS))


def upstream_fetcher(line: Line, *, refresh: bool = False) -> ChunkFetcher:
    """Chunks of the line's unfiltered, newest-first incoming/outgoing lists, via the cache."""

    def fetch(
        kind: CallKind, offset: int, limit: int
    ) -> tuple[Sequence[Call], int] | UpstreamError | None:
        fetched = fetch_batch(line, kind, newest_first(offset, limit), refresh=refresh)
        if fetched.batch is None:
            return fetched.error
        return fetched.batch.calls, fetched.batch.sent

    return fetch


def later_contacts(line: Line, *, refresh: bool = False) -> LaterContacts:
    """The line's index, starting from the one stored for every viewer when it holds
    (one cache read instead of reading and indexing up to six chunks); `keep_later`
    stores it again once a screen read deeper."""
    index = LaterContacts(upstream_fetcher(line, refresh=refresh), line.default_region)
    shared = None if refresh else ViewCache.for_view(line, "later", {}, ())
    index.shared = shared
    if shared is not None and index.restore(shared.lookup()):
        index.shared_until = shared.until
    return index


def keep_later(index: LaterContacts) -> None:
    """Store the index for the line's other viewers if this screen read more of it."""
    if index.shared is not None and index.read_more:
        index.shared.store(index.snapshot(), until=index.shared_until)
