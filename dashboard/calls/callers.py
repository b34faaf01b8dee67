"""Caller history: every call with one number on a line, across the three kinds.

The provider searches with SQL LIKE on the number as the phone stored it, so one caller
written three ways (`+32470123456`, `0032470123456`, `0470123456`) needs a search term
all three contain: the national significant number (`470123456`). That also matches
other numbers containing those digits, and names, so rows are then kept only when their
normalised number equals the caller's. Reading is bounded: at most `MAX_PAGES` chunks of
`CHUNK` rows per kind, newest first; the page says when a kind was cut short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.calls.cache import fetch_batch, oldest
from dashboard.calls.phone import display, number_key, search_term, tel_uri
from dashboard.calls.timeline import KIND_ORDER, order_key
from dashboard.lines.models import Line
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind, CallQuery

CHUNK = 200  # the incoming/outgoing maximum; missed allows more, one size keeps it simple
MAX_PAGES = 2  # per kind: up to 400 calls of each kind with one number
MAX_ROWS_PER_KIND = CHUNK * MAX_PAGES


@dataclass
class CallerHistory:
    key: str
    region: str
    calls: tuple[Call, ...] = ()
    capped: list[CallKind] = field(default_factory=list)
    errors: dict[CallKind, UpstreamError] = field(default_factory=dict)
    fetched_at: datetime | None = None
    stale: bool = False

    @property
    def display(self) -> str:
        return display(self.key, self.region)

    @property
    def tel(self) -> str:
        return tel_uri(self.key)

    @property
    def counts(self) -> list[tuple[CallKind, int]]:
        return [(k, sum(1 for c in self.calls if c.kind is k)) for k in KIND_ORDER]

    @property
    def first_contact(self) -> datetime | None:
        return min((c.started_at for c in self.calls), default=None)

    @property
    def last_contact(self) -> datetime | None:
        return max((c.started_at for c in self.calls), default=None)

    @property
    def _talks(self) -> list[int]:
        # A zero-second call is a call nobody picked up (outgoing), not talk time.
        return [c.duration for c in self.calls if c.kind is not CallKind.MISSED and c.duration]

    @property
    def total_talk(self) -> int:
        return sum(self._talks)

    @property
    def average_talk(self) -> int | None:
        talks = self._talks
        return round(sum(talks) / len(talks)) if talks else None

    @property
    def names(self) -> list[str]:
        """The contact names the phone had for this number, most recent first."""
        seen: list[str] = []
        for call in self.calls:
            if call.name and call.name not in seen:
                seen.append(call.name)
        return seen[:3]


def caller_history(line: Line, key: str, *, refresh: bool = False) -> CallerHistory:
    """Every call with `key` (a `number_key`) on `line`, newest first, bounded."""
    region = line.default_region
    history = CallerHistory(key=key, region=region)
    fragment = search_term(key, region)  # the digits every stored form of it shares
    matching: list[Call] = []
    for kind in KIND_ORDER:
        for page in range(MAX_PAGES):
            query = CallQuery(search=fragment, offset=page * CHUNK, limit=CHUNK, tz_name="UTC")
            fetched = fetch_batch(line, kind, query, refresh=refresh)
            if fetched.batch is None:
                if fetched.error is not None:
                    history.errors[kind] = fetched.error
                break
            history.stale = history.stale or fetched.stale
            history.fetched_at = oldest(history.fetched_at, fetched.fetched_at)
            rows = fetched.batch.calls
            matching.extend(c for c in rows if number_key(c.number, region) == key)
            if fetched.batch.sent < CHUNK:
                break
        else:
            history.capped.append(kind)
    history.calls = tuple(sorted(matching, key=order_key))
    return history
