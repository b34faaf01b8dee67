"""One kind's list of calls within the viewer's exact days, at any position.

Incoming and outgoing calls are filtered by the provider to the millisecond, so their
lists are the provider's. The missed endpoint filters by calendar days in *its* zone
(SMSMOBILEAPI_TIMEZONE): for a viewer elsewhere it is asked for the provider's days that
cover the viewer's (`client.provider_days`), and only the rows inside the viewer's exact
bounds are kept. The provider's list is newest first, so those rows are one unbroken run
of it: after a *head* of rows newer than the viewer's last instant (up to a day of
calls), before a *tail* of rows older than the first. The head's length is found once by
scanning from the newest call in chunks (through the cache, so every page and every user
shares the reads); position n of the viewer's list is then the provider's offset
head + n. Pages are therefore fixed slices of one list: page 2 follows page 1 with
nothing skipped and nothing repeated, and the tail ends the list.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from django.conf import settings

from dashboard.calls.cache import Fetched, fetch_batch, oldest
from dashboard.lines.models import Line
from dashboard.smsmobileapi.client import day_bounds_ms, provider_days
from dashboard.smsmobileapi.records import Call, CallBatch, CallKind, CallQuery, SortField

HEAD_CHUNK = 100  # rows per head-scan request (a day's sliver of a busy line)
MAX_HEAD_CHUNKS = 20  # past 2,000 rows in the sliver, the list starts where the scan stopped
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Text columns whose empty values ("Unknown", "—") go last in both directions.
_TEXT_SORTS = {SortField.NAME: "name", SortField.LOCATION: "location"}


# The line's whole list, newest first, read in the endpoints' largest pages (200 for
# incoming and outgoing): one query shape shared by "answered later" (followup/later.py)
# and the tables' first pages, so the same cached answers serve both and a team opening
# a line asks the provider once per kind, not once per page and once more per window.
SHARED_CHUNK = 200


def newest_first(offset: int, limit: int = SHARED_CHUNK) -> CallQuery:
    """The unfiltered newest-first list at `offset`: the query every shared chunk uses."""
    return CallQuery(offset=offset, limit=limit, tz_name="UTC")


def call_ms(call: Call) -> int:
    """The call's instant in integer milliseconds, the unit of the viewer's bounds."""
    return (call.started_at - _EPOCH) // timedelta(milliseconds=1)


class ExactList:
    """The calls of `kind` matching `query` (its offset and limit are ignored) in the
    viewer's exact days; `fetch(offset, limit)` is a slice of that list."""

    def __init__(
        self,
        line: Line,
        kind: CallKind,
        query: CallQuery,
        *,
        refresh: bool = False,
        provider_tz: str | None = None,
    ) -> None:
        self.line = line
        self.kind = kind
        self.query = query
        self.refresh = refresh
        provider_tz = provider_tz or settings.SMSMOBILEAPI_TIMEZONE
        self.lo, self.hi = day_bounds_ms(query.date_from, query.date_to, query.tz_name)
        covered_lo, covered_hi = (None, None)
        if kind is CallKind.MISSED:
            first, last = provider_days(query.date_from, query.date_to, query.tz_name, provider_tz)
            covered_lo, covered_hi = day_bounds_ms(first, last, provider_tz)
        # Rows to drop exist only where the provider's days reach past the viewer's.
        self.trims_head = self.hi is not None and covered_hi is not None and covered_hi > self.hi
        self.trims_tail = self.lo is not None and covered_lo is not None and covered_lo < self.lo
        self._head: int | None = None if self.trims_head else 0
        self._head_failure: Fetched | None = None
        self._chunks: dict[int, Fetched] = {}
        # The provider sorts empty text first when ascending (SQL's NULL and '' are lowest)
        # and last when descending. Ascending, the list is read as the provider's from its
        # first non-empty row, then its descending list from the same position: empties
        # sit at the same offsets at the end of both (only sortable kinds, never trimmed).
        self.empties_last = (
            query.sort in _TEXT_SORTS and not query.descending and kind.sortable and not self.trims
        )
        self._empties: int | None = None
        self._empties_unknown = False

    @property
    def trims(self) -> bool:
        return self.trims_head or self.trims_tail

    def fetch(self, offset: int, limit: int) -> Fetched:
        """The rows at [offset, offset + limit) of the exact list, as a `Fetched` whose
        batch holds only those rows; a short batch means the list ends there."""
        if self.empties_last:
            return self._empties_last(offset, limit)
        if not self.trims:
            return self._from_shared_chunk(offset, limit) or self._get(offset, limit)
        head = self.head()
        if head is None:
            assert self._head_failure is not None
            return self._head_failure
        start = head + offset
        fetched = self._from_chunks(start, limit) or self._get(start, limit)
        if fetched.batch is None:
            return fetched
        return dataclasses.replace(fetched, batch=self._keep(fetched.batch, offset))

    def head(self) -> int | None:
        """How many of the provider's rows are newer than the viewer's last instant
        (None when the provider could not be read)."""
        if self._head is not None or self._head_failure is not None:
            return self._head
        assert self.hi is not None
        offset = 0
        for _chunk in range(MAX_HEAD_CHUNKS):
            fetched = self._get(offset, HEAD_CHUNK)
            batch = fetched.batch
            if batch is None:
                self._head_failure = fetched
                return None
            self._chunks[offset] = fetched
            for i, call in enumerate(batch.calls):
                if call_ms(call) <= self.hi:
                    # Malformed rows before it would make this an underestimate: those
                    # head rows then reach the page and are dropped there, never shown.
                    self._head = offset + i
                    return self._head
            offset += batch.sent
            if batch.sent < HEAD_CHUNK:
                break
        self._head = offset
        return self._head

    def _empties_last(self, offset: int, limit: int) -> Fetched:
        empties = self._leading_empties()
        if isinstance(empties, Fetched):
            return empties
        if empties is None:  # too many to find: the provider's own order
            return self._get(offset, limit)
        asc = self._get(empties + offset, limit)
        if asc.batch is None or asc.batch.sent >= limit:
            return asc
        # The non-empty values end inside this slice: the empty ones follow, read from the
        # descending list at the same positions.
        start = offset + asc.batch.sent
        desc = fetch_batch(
            self.line,
            self.kind,
            self.query.replace(offset=start, limit=limit - asc.batch.sent, descending=True),
            refresh=self.refresh,
        )
        if desc.batch is None:
            return desc
        field = _TEXT_SORTS[self.query.sort]
        tail = tuple(c for c in desc.batch.calls if not getattr(c, field).strip())
        batch = CallBatch(
            kind=asc.batch.kind,
            calls=asc.batch.calls + tail,
            offset=offset,
            limit=limit,
            skipped_rows=asc.batch.skipped_rows + desc.batch.sent - len(tail),
        )
        return dataclasses.replace(
            asc,
            batch=batch,
            fetched_at=oldest(asc.fetched_at, desc.fetched_at),
            stale=asc.stale or desc.stale,
            error=asc.error or desc.error,
        )

    def _leading_empties(self) -> int | Fetched | None:
        """How many rows with an empty value the provider's ascending list starts with
        (a failed read comes back as it is). Past the scan's cap, the provider's order."""
        if self._empties is not None or self._empties_unknown:
            return self._empties
        field = _TEXT_SORTS[self.query.sort]
        offset = 0
        for _chunk in range(MAX_HEAD_CHUNKS):
            fetched = self._get(offset, HEAD_CHUNK)
            if fetched.batch is None:
                return fetched
            for i, call in enumerate(fetched.batch.calls):
                if getattr(call, field).strip():
                    self._empties = offset + i
                    return self._empties
            offset += fetched.batch.sent
            if fetched.batch.sent < HEAD_CHUNK:
                self._empties = offset  # every value is empty
                return offset
        self._empties_unknown = True
        return None

    def _get(self, offset: int, limit: int) -> Fetched:
        query = self.query.replace(offset=offset, limit=limit)
        return fetch_batch(self.line, self.kind, query, refresh=self.refresh)

    def _from_shared_chunk(self, offset: int, limit: int) -> Fetched | None:
        """The slice from the line's first shared chunk (`newest_first`), when this is
        the unfiltered newest-first list and the slice lies inside the chunk."""
        query = self.query
        unfiltered = not (query.search or query.date_from or query.date_to)
        newest = query.sort is SortField.DATE and query.descending
        if not (unfiltered and newest and offset + limit <= SHARED_CHUNK):
            return None
        fetched = fetch_batch(self.line, self.kind, newest_first(0), refresh=self.refresh)
        batch = fetched.batch
        if batch is None or batch.skipped_rows:
            # A malformed row shifts the provider's offsets against ours: ask exactly.
            return None if batch is not None else fetched
        calls = batch.calls[offset : offset + limit]
        sliced = CallBatch(kind=batch.kind, calls=calls, offset=offset, limit=limit)
        return dataclasses.replace(fetched, batch=sliced)

    def _from_chunks(self, start: int, limit: int) -> Fetched | None:
        """The slice from a head chunk already read, when it holds all of it (or the
        list ends inside it): the first page usually costs no request of its own."""
        for chunk_offset, fetched in self._chunks.items():
            batch = fetched.batch
            if batch is None or batch.skipped_rows or chunk_offset > start:
                continue
            end = chunk_offset + len(batch.calls)
            if start + limit <= end or (len(batch.calls) < HEAD_CHUNK and start <= end):
                calls = batch.calls[start - chunk_offset : start - chunk_offset + limit]
                sliced = CallBatch(kind=batch.kind, calls=calls, offset=start, limit=limit)
                return dataclasses.replace(fetched, batch=sliced)
        return None

    def _keep(self, batch: CallBatch, offset: int) -> CallBatch:
        kept: list[Call] = []
        dropped_newer = 0
        ended = False
        for call in batch.calls:
            moment = call_ms(call)
            if self.hi is not None and moment > self.hi:
                dropped_newer += 1
            elif self.lo is not None and moment < self.lo:
                ended = True  # the tail: everything after is older still
                break
            else:
                kept.append(call)
        # Rows the provider sent but we dropped for being newer still count as sent (see
        # `CallBatch.sent`), or the list would look finished; past the tail nothing does.
        skipped = 0 if ended else batch.skipped_rows + dropped_newer
        return CallBatch(
            kind=batch.kind,
            calls=tuple(kept),
            offset=offset,
            limit=batch.limit,
            skipped_rows=skipped,
        )
