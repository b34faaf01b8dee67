"""Reading every call of a query, page after page, in bounded work.

Reports need more than one page: the provider has no totals and no aggregate endpoint, so
we walk `offset` in pages of the endpoint's maximum size until a short page says there is
no more, or until the row cap is reached. Every page goes through `calls.cache.fetch_batch`,
so reports share the table pages' cache and single flight.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import datetime

from dashboard.calls.cache import oldest
from dashboard.calls.exact import ExactList
from dashboard.calls.filters import CallFilter
from dashboard.calls.timeline import CachedFetcher, Cursor, merge_page
from dashboard.lines.models import Line
from dashboard.smsmobileapi.client import ENDPOINTS
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind, CallQuery, SortField

# Pages beyond what the row cap needs: rows the client skipped as malformed do not count
# towards the cap, so a provider sending only garbage could otherwise keep us paging.
EXTRA_PAGES = 2


class CallReader:
    """Iterate over all calls of `query` (its offset and limit are ignored), at most `max_rows`.

    After iteration: `truncated` is True when more rows existed than the cap allowed (we
    ask for one row past the cap to know), `error` holds the upstream failure that ended
    the reading early, `pages` counts the requests and `fetched_at` is the oldest page's
    fetch time (how stale the whole reading may be).
    """

    def __init__(
        self,
        line: Line,
        kind: CallKind,
        query: CallQuery,
        max_rows: int,
        *,
        refresh: bool = False,
    ) -> None:
        self.line = line
        self.kind = kind
        self.query = query
        self.max_rows = max(max_rows, 0)
        self.refresh = refresh
        self.page_size = ENDPOINTS[kind].max_limit
        self.max_pages = math.ceil((self.max_rows + 1) / self.page_size) + EXTRA_PAGES
        self.truncated = False
        self.error: UpstreamError | None = None
        self.stale = False  # some page came from the stale cache while the provider failed
        self.pages = 0
        self.rows = 0
        self.fetched_at: datetime | None = None

    def __iter__(self) -> Iterator[Call]:
        # The viewer's exact days: missed calls are trimmed to them (calls/exact.py).
        calls = ExactList(self.line, self.kind, self.query, refresh=self.refresh)
        offset = 0
        while True:
            if self.pages >= self.max_pages:
                self.truncated = True
                return
            # One row past the cap, never more than the endpoint's maximum page.
            want = min(self.page_size, self.max_rows + 1 - self.rows)
            fetched = calls.fetch(offset, want)
            self.pages += 1
            if fetched.error is not None and fetched.batch is None:
                self.error = fetched.error
                return
            self.stale = self.stale or fetched.error is not None
            self.fetched_at = oldest(self.fetched_at, fetched.fetched_at)
            batch = fetched.batch
            if batch is None:  # pragma: no cover - fetch_batch gives a batch or an error
                return
            for call in batch.calls:
                if self.rows >= self.max_rows:
                    self.truncated = True
                    return
                self.rows += 1
                yield call
            # A page shorter than asked (skipped rows count: they were sent) is the last one.
            if len(batch.calls) + batch.skipped_rows < want:
                return
            offset += want


class TimelineReader:
    """Iterate over the timeline of `call_filter` (every kind, newest first, the viewer's
    exact days), at most `max_rows`: the table's pages merged one after another, as the
    timeline screen pages through them. Same outcome attributes as `CallReader`; a kind
    that fails ends the reading (rows of the other kinds alone would not be the view)."""

    PAGE = 200

    def __init__(self, line: Line, call_filter: CallFilter, tz_name: str, max_rows: int) -> None:
        self.call_filter = dataclasses.replace(
            call_filter, sort=SortField.DATE, descending=True, page=1
        )
        self.fetcher = CachedFetcher(line, self.call_filter, tz_name, refresh=False)
        self.start = Cursor()
        self.max_rows = max(max_rows, 0)
        self.truncated = False
        self.error: UpstreamError | None = None
        self.rows = 0

    def __iter__(self) -> Iterator[Call]:
        start = self.start
        while True:
            merged = merge_page(self.fetcher, start, self.PAGE)
            if self.fetcher.errors:
                self.error = next(iter(self.fetcher.errors.values()))
                return
            for call in merged.calls:
                if self.rows >= self.max_rows:
                    self.truncated = True
                    return
                self.rows += 1
                yield call
            if not merged.has_next:
                return
            start = merged.next
