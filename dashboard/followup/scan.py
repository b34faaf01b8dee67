"""The "To follow up" view of the missed tab: only open missed calls.

Open-ness is known only here (marks in our database, later contacts from the provider),
so the provider cannot filter for us and a page of open calls cannot be a fixed slice of
the missed list. Instead a page scans the missed list forward from an offset (`scan=` in
the URL), chunk by chunk, keeping open calls until it has a page and one more, and the
next page resumes right after the last call shown. One page reads at most `SCAN_CAP`
missed calls; when that is not enough, it shows what it found, says how far back it
looked, and offers to continue from there. Previous is "back to the newest": walking
backwards would need the same scan in reverse; the browser's Back button covers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.calls.cache import oldest as older_fetch
from dashboard.calls.exact import ExactList
from dashboard.calls.filters import CallFilter
from dashboard.followup.later import LaterContacts
from dashboard.followup.state import FollowUps, followups_for
from dashboard.lines.models import Line
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind

SCAN_CHUNK = 100
SCAN_CAP = 500  # missed calls read per page, at most
MAX_SCAN_OFFSET = 1_000_000


@dataclass(frozen=True)
class OpenFilter(CallFilter):
    """The missed-tab filter with "To follow up" on: links built from it keep it on."""

    @property
    def params(self) -> dict[str, str]:
        return {**super().params, "followup": "open"}


@dataclass
class OpenPage:
    """A page of open missed calls; mirrors `CallPage` where the two overlap."""

    kind: CallKind
    filter: CallFilter
    calls: tuple[Call, ...]
    start: int  # offset in the (filtered) missed list where this scan began
    next_offset: int  # where the next page's scan begins
    has_next: bool
    capped: bool  # stopped at SCAN_CAP before filling the page
    scanned: int
    scanned_back_to: datetime | None
    followups: FollowUps
    fetched_at: datetime | None = None
    error: UpstreamError | None = None
    stale: bool = False
    source: str = "upstream"
    skipped_rows: int = 0
    unchecked: int = 0  # open-looking calls whose later contacts could not be checked
    cursor_pager: bool = field(default=True, init=False)

    @property
    def has_prev(self) -> bool:
        return self.start > 0

    # Positions in the open list are unknown (earlier pages were scanned elsewhere).
    first_index = 0
    last_index = 0

    @property
    def next_query(self) -> dict[str, str]:
        return {"scan": str(self.next_offset)}

    @property
    def prev_query(self) -> dict[str, str]:
        return {}


def scan_open(
    line: Line,
    call_filter: OpenFilter,
    tz_name: str,
    start: int,
    later: LaterContacts,
    *,
    refresh: bool = False,
    cap: int | None = None,
) -> OpenPage:
    """Scan missed calls from `start` until a page of open ones (plus one) is found."""
    cap = SCAN_CAP if cap is None else cap
    per_page = call_filter.per_page
    # Offsets are positions in the missed list of the viewer's exact days (calls/exact.py).
    missed = ExactList(
        line, CallKind.MISSED, call_filter.to_query(CallKind.MISSED, tz_name), refresh=refresh
    )
    found: list[tuple[int, Call]] = []  # (offset in the missed list, call)
    states = FollowUps(line.default_region, {})
    offset, scanned, capped, exhausted = start, 0, False, False
    fetched_at = error = None
    stale = False
    skipped = 0
    oldest: datetime | None = None
    while len(found) <= per_page:
        if scanned >= cap:
            capped = True
            break
        size = min(SCAN_CHUNK, cap - scanned)
        fetched = missed.fetch(offset, size)
        if fetched.batch is None:
            error = fetched.error
            break
        fetched_at = older_fetch(fetched_at, fetched.fetched_at)
        stale = stale or fetched.stale
        skipped += fetched.batch.skipped_rows
        rows = fetched.batch.calls
        chunk = followups_for(line, rows, later)
        states.states.update(chunk.states)
        for i, call in enumerate(rows):
            state = chunk.for_call(call)
            # Hidden numbers cannot be marked or called back: not follow-up work.
            if state is not None and state.is_open:
                found.append((offset + i, call))
        if rows:
            oldest = rows[-1].started_at
        scanned += fetched.batch.sent
        offset += fetched.batch.sent
        if fetched.batch.sent < size:
            exhausted = True
            break
    shown = found[:per_page]
    if len(found) > per_page:
        next_offset, has_next = found[per_page][0], True
    else:
        next_offset, has_next = offset, capped and not exhausted
    return OpenPage(
        kind=CallKind.MISSED,
        filter=call_filter,
        calls=tuple(c for _, c in shown),
        start=start,
        next_offset=next_offset,
        has_next=has_next,
        capped=capped and len(found) <= per_page,
        scanned=scanned,
        scanned_back_to=oldest,
        followups=states,
        fetched_at=fetched_at,
        error=error,
        stale=stale,
        skipped_rows=skipped,
        unchecked=sum(1 for _, c in shown if _unchecked(states, c)),
    )


def _unchecked(states: FollowUps, call: Call) -> bool:
    state = states.for_call(call)
    return state is not None and not state.later.known
