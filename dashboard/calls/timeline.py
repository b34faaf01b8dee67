"""The all-calls timeline: missed, incoming and outgoing merged newest first.

The provider pages each kind separately and has no totals, so a timeline page cannot be
"page N". Its position is a cursor holding one offset per kind (`m40.i55.o30`: the page
starts at the 41st missed, 56th incoming and 31st outgoing call). A page asks each kind
for at most `per_page + 1` rows at its offset, merges them by taking the newest head each
time (ties: missed, then incoming, then outgoing; within a kind the provider's order is
kept), stops at `per_page`, and advances each offset by the rows it took from that kind.
Because the merge only ever compares the heads of the three streams, walking page after
page yields exactly the full merged list: nothing skipped, nothing repeated. The extra
row per kind tells whether anything is left.

Previous: the URL of the page before is `?before=<this page's cursor>`. Its start is
recomputed by merging backwards from the tails of the three prefixes (at most `per_page`
rows before each offset), which inverts the forward merge as long as each kind comes
newest first (the provider's order for missed calls, and what we ask for the others).
No stack of cursors grows in the URL and every URL stays shareable.

`merge_page` and `previous_start` are pure: they take a fetcher, so the property test
walks them over generated data; `fetch_timeline` plugs in the cached upstream.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext_lazy as _

from dashboard.calls.cache import oldest
from dashboard.calls.exact import ExactList
from dashboard.calls.filters import CallFilter
from dashboard.calls.table import Column
from dashboard.lines.models import Line
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind, SortField


class TimelineKind(str):
    """Stands in for a `CallKind` in the shared call-list template: "all" with a label."""

    sortable = False

    @property
    def label(self) -> str:
        return str(_("All calls"))


ALL_KINDS = TimelineKind("all")

# The tie-break between kinds at the same instant; any fixed order works, this one puts
# the call that needs attention first.
KIND_ORDER: tuple[CallKind, ...] = (CallKind.MISSED, CallKind.INCOMING, CallKind.OUTGOING)
_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}
_LETTER = {CallKind.MISSED: "m", CallKind.INCOMING: "i", CallKind.OUTGOING: "o"}
# Offsets past this are not browsing; it also keeps hand-edited cursors sane.
MAX_OFFSET = 1_000_000
_CURSOR_RE = re.compile(r"m(\d{1,7})\.i(\d{1,7})\.o(\d{1,7})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Fetcher = Callable[[CallKind, int, int], Sequence[Call]]


class BadCursor(ValueError):
    """A cursor that is not `m<n>.i<n>.o<n>` with sane offsets."""


@dataclass(frozen=True)
class Cursor:
    """One offset per kind: where a timeline page starts in each kind's list."""

    missed: int = 0
    incoming: int = 0
    outgoing: int = 0

    def __getitem__(self, kind: CallKind) -> int:
        return getattr(self, kind.value)

    @property
    def position(self) -> int:
        """How many calls of the merged timeline come before this cursor."""
        return self.missed + self.incoming + self.outgoing

    @property
    def is_start(self) -> bool:
        return self.position == 0

    def encode(self) -> str:
        return ".".join(f"{_LETTER[k]}{self[k]}" for k in KIND_ORDER)

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = _CURSOR_RE.fullmatch(text.strip())
        if not match:
            raise BadCursor(text)
        offsets = [int(g) for g in match.groups()]
        if any(o > MAX_OFFSET for o in offsets):
            raise BadCursor(text)
        return cls(*offsets)

    @classmethod
    def from_offsets(cls, offsets: Mapping[CallKind, int]) -> Cursor:
        return cls(**{k.value: offsets.get(k, 0) for k in KIND_ORDER})


def order_key(call: Call) -> tuple[int, int]:
    """Newest first, then by kind: exact (integer microseconds, no float rounding)."""
    return (-((call.started_at - _EPOCH) // timedelta(microseconds=1)), _RANK[call.kind])


@dataclass(frozen=True)
class Merged:
    calls: tuple[Call, ...]
    start: Cursor
    next: Cursor
    has_next: bool


def merge_page(fetch: Fetcher, start: Cursor, per_page: int) -> Merged:
    """The page at `start`: per_page + 1 rows of each kind, merged, cut at per_page."""
    batches = {kind: list(fetch(kind, start[kind], per_page + 1)) for kind in KIND_ORDER}
    taken = dict.fromkeys(KIND_ORDER, 0)
    calls: list[Call] = []
    while len(calls) < per_page:
        heads = [
            (order_key(batches[k][taken[k]]), k) for k in KIND_ORDER if taken[k] < len(batches[k])
        ]
        if not heads:
            break
        kind = min(heads)[1]
        calls.append(batches[kind][taken[kind]])
        taken[kind] += 1
    # A kind had a row we did not show: that row (at least) is on the next page. A kind
    # cannot be cut short by the fetch: it gave per_page + 1 rows and at most per_page
    # were taken, or it gave fewer, which means it has no more.
    has_next = any(taken[k] < len(batches[k]) for k in KIND_ORDER)
    end = Cursor.from_offsets({k: start[k] + taken[k] for k in KIND_ORDER})
    return Merged(calls=tuple(calls), start=start, next=end, has_next=has_next)


def previous_start(fetch: Fetcher, end: Cursor, per_page: int) -> Cursor:
    """Where the page that ends at `end` starts: the forward merge run backwards."""
    tails: dict[CallKind, list[Call]] = {}
    for kind in KIND_ORDER:
        offset = end[kind]
        size = min(offset, per_page)
        tails[kind] = list(fetch(kind, offset - size, size)) if size else []
    left = {k: len(tails[k]) for k in KIND_ORDER}
    for _step in range(per_page):
        tails_last = [(order_key(tails[k][left[k] - 1]), k) for k in KIND_ORDER if left[k]]
        if not tails_last:
            break
        kind = max(tails_last)[1]
        left[kind] -= 1
    return Cursor.from_offsets({k: max(end[k] - (len(tails[k]) - left[k]), 0) for k in KIND_ORDER})


# The view's side: the cached upstream as a fetcher -------------------------------------


@dataclass
class TimelinePage:
    """What the template shows; mirrors `CallPage` where the two overlap."""

    filter: CallFilter
    calls: tuple[Call, ...]
    start: Cursor
    next: Cursor
    has_next: bool
    fetched_at: datetime | None = None
    stale: bool = False
    errors: dict[CallKind, UpstreamError] = field(default_factory=dict)
    cursor_pager: bool = field(default=True, init=False)

    @property
    def has_prev(self) -> bool:
        return not self.start.is_start

    @property
    def next_query(self) -> dict[str, str]:
        return {"cursor": self.next.encode()}

    @property
    def prev_query(self) -> dict[str, str]:
        return {"before": self.start.encode()}

    @property
    def first_index(self) -> int:
        return self.start.position + 1 if self.calls else 0

    @property
    def last_index(self) -> int:
        return self.start.position + len(self.calls)

    @property
    def error(self) -> UpstreamError | None:
        """The failure to show when no kind answered; partial failures are in `errors`."""
        if len(self.errors) == len(KIND_ORDER):
            return next(iter(self.errors.values()))
        return None

    @property
    def partial_errors(self) -> list[tuple[str, UpstreamError]]:
        """(the kinds' labels, the error) once per distinct problem: an expired subscription
        refusing incoming and outgoing is one banner, not two saying the same."""
        if self.error:
            return []
        grouped: dict[str, tuple[list[str], UpstreamError]] = {}
        for kind, error in self.errors.items():
            labels = grouped.setdefault(str(error.user_message), ([], error))[0]
            labels.append(str(kind.label))
        return [(", ".join(labels), error) for labels, error in grouped.values()]


class CachedFetcher:
    """Fetches through the shared cache and remembers errors and freshness per kind."""

    def __init__(self, line: Line, call_filter: CallFilter, tz_name: str, refresh: bool):
        self.line = line
        # Each kind's list in the viewer's exact days (missed calls are trimmed to them).
        self.lists = {
            k: ExactList(line, k, call_filter.to_query(k, tz_name), refresh=refresh)
            for k in KIND_ORDER
        }
        self.errors: dict[CallKind, UpstreamError] = {}
        self.fetched_at: datetime | None = None
        self.stale = False

    def __call__(self, kind: CallKind, offset: int, limit: int) -> Sequence[Call]:
        fetched = self.lists[kind].fetch(offset, limit)
        if fetched.error is not None:
            self.errors[kind] = fetched.error
        self.stale = self.stale or fetched.stale
        self.fetched_at = oldest(self.fetched_at, fetched.fetched_at)
        return fetched.batch.calls if fetched.batch else ()


def fetch_timeline(
    line: Line,
    call_filter: CallFilter,
    tz_name: str,
    *,
    cursor: Cursor | None = None,
    before: Cursor | None = None,
    refresh: bool = False,
) -> TimelinePage:
    """The timeline page at `cursor`, or the one ending at `before`; errors are data."""
    # Only date order can be merged; the timeline ignores any other sort.
    call_filter = dataclasses.replace(call_filter, sort=SortField.DATE, descending=True, page=1)
    fetcher = CachedFetcher(line, call_filter, tz_name, refresh)
    start = cursor or Cursor()
    if before is not None:
        start = previous_start(fetcher, before, call_filter.per_page)
    merged = merge_page(fetcher, start, call_filter.per_page)
    return TimelinePage(
        filter=call_filter,
        calls=merged.calls,
        start=merged.start,
        next=merged.next,
        has_next=merged.has_next,
        fetched_at=fetcher.fetched_at,
        stale=fetcher.stale,
        errors=fetcher.errors,
    )


def timeline_columns() -> list[Column]:
    """Date order only (the merge needs it), so no column sorts; the kind gets its own."""
    return [
        Column("when", str(_("When"))),
        Column("kind", str(_("Kind"))),
        Column("number", str(_("Number"))),
        Column("name", str(_("Name"))),
        Column("duration", str(_("Duration"))),
        Column("location", str(_("Location"))),
        Column("followup", str(_("Follow-up"))),
    ]
