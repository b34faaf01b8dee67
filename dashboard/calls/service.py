"""From a line, a kind and a filter to a page of calls ready to render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.calls.exact import ExactList
from dashboard.calls.filters import CallFilter
from dashboard.lines.models import Line
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind


@dataclass(frozen=True)
class CallPage:
    kind: CallKind
    filter: CallFilter
    calls: tuple[Call, ...]
    has_next: bool
    fetched_at: datetime | None
    error: UpstreamError | None = None
    stale: bool = False
    source: str = "upstream"
    skipped_rows: int = 0
    retry_in: int | None = None  # seconds until the provider is asked again (backoff)

    @property
    def has_prev(self) -> bool:
        return self.filter.page > 1

    @property
    def fetched_now(self) -> bool:
        """Fetched from the provider by this request (not another's, not the cache)."""
        return self.source == "upstream" and self.error is None

    @property
    def first_index(self) -> int:
        return self.filter.offset + 1 if self.calls else 0

    @property
    def last_index(self) -> int:
        return self.filter.offset + len(self.calls)


def fetch_calls(
    line: Line, kind: CallKind, call_filter: CallFilter, tz_name: str, *, refresh: bool = False
) -> CallPage:
    """The page the filter asks for; upstream failures come back as `error`, never raised."""
    # One row more than the page shows: the provider has no totals, so this is how we
    # know whether a next page exists (per_page + 1 stays within every endpoint's max).
    query = call_filter.to_query(kind, tz_name, extra_rows=1)
    # The viewer's exact days: missed calls are trimmed to them (see calls/exact.py).
    exact = ExactList(line, kind, query, refresh=refresh)
    fetched = exact.fetch(query.offset, query.limit)
    rows = fetched.batch.calls if fetched.batch else ()
    skipped = fetched.batch.skipped_rows if fetched.batch else 0
    return CallPage(
        kind=kind,
        filter=call_filter,
        calls=tuple(rows[: call_filter.per_page]),
        # The provider counted the rows we skipped as malformed: so must we, or one bad
        # row in the extra one would hide every later page.
        has_next=len(rows) + skipped > call_filter.per_page,
        fetched_at=fetched.fetched_at,
        error=fetched.error,
        stale=fetched.stale,
        source=fetched.source,
        skipped_rows=skipped,
        retry_in=fetched.retry_in,
    )
