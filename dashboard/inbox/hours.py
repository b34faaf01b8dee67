"""Business hours: a weekly schedule in a line's zone, plus closed days, and the clock that
only runs while the line is open. Pure Python (no Django), so the inbox's target time and
the alerts' "N minutes of business hours" use the very same arithmetic.

A schedule is seven lists of opening intervals (Monday first), each interval minutes from
local midnight (`(540, 1020)` is 09:00–17:00; `1440` is the end of the day). Local times
are turned into instants day by day in the schedule's zone, so a day that gains or loses an
hour to daylight saving time counts what the wall clock says (09:00–17:00 is 8 hours of
wall time, 7 or 9 real hours on a transition day only if the change falls inside it).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60
WEEKDAYS = 7
# How far ahead `add_business_minutes` looks for enough open time before giving up.
MAX_DAYS_AHEAD = 400

Interval = tuple[int, int]  # minutes from local midnight, start < end <= 1440


@dataclass(frozen=True)
class Schedule:
    """When a line is staffed: `weekly[0]` is Monday's intervals; `closed_days` are local
    dates with no opening at all (holidays). `weekly=None` means always open."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: tuple[tuple[Interval, ...], ...] | None = None
    closed_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.weekly is not None and len(self.weekly) != WEEKDAYS:
            raise ValueError("A weekly schedule has seven days.")

    @classmethod
    def always_open(cls, zone: ZoneInfo | None = None) -> Schedule:
        return cls(zone=zone or ZoneInfo("UTC"))

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The opening intervals of one local date (none on a closed day)."""
        if day in self.closed_days:
            return ()
        if self.weekly is None:
            return ((0, DAY_MINUTES),)
        return self.weekly[day.weekday()]


def _instant(zone: ZoneInfo, day: date, minutes: int) -> datetime:
    # Wall-clock time of that day in the zone, as an aware UTC instant. 1440 is the next
    # local midnight, which on a DST day is not 24 hours after this one.
    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return local.replace(tzinfo=zone).astimezone(UTC)


def open_periods(
    schedule: Schedule, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open periods between two aware instants, clipped to them, in order."""
    # In UTC: Python subtracts two datetimes of the same zone object as wall times.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return
    day = start.astimezone(schedule.zone).date() - timedelta(days=1)  # an interval may span
    last = end.astimezone(schedule.zone).date()
    while day <= last:
        for begin_minute, end_minute in schedule.intervals_on(day):
            begin = max(start, _instant(schedule.zone, day, begin_minute))
            finish = min(end, _instant(schedule.zone, day, end_minute))
            if begin < finish:
                yield begin, finish
        day += timedelta(days=1)


def business_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Minutes of open time between two aware instants (0 when `end` is not after `start`)."""
    seconds = sum((b - a).total_seconds() for a, b in open_periods(schedule, start, end))
    return seconds / 60


def add_business_minutes(schedule: Schedule, start: datetime, minutes: float) -> datetime | None:
    """The instant when `minutes` of open time have passed since `start`; None when the
    schedule has no such time within `MAX_DAYS_AHEAD` days (e.g. no opening hours at all)."""
    remaining = timedelta(minutes=max(minutes, 0))
    start = start.astimezone(UTC)  # see open_periods
    day = start.astimezone(schedule.zone).date() - timedelta(days=1)
    for _ in range(MAX_DAYS_AHEAD + 1):
        for begin_minute, end_minute in schedule.intervals_on(day):
            begin = max(start, _instant(schedule.zone, day, begin_minute))
            finish = _instant(schedule.zone, day, end_minute)
            if finish <= begin:
                continue
            if not remaining:
                return begin
            if finish - begin >= remaining:
                return begin + remaining
            remaining -= finish - begin
        day += timedelta(days=1)
    return None


def is_open_at(schedule: Schedule, when: datetime) -> bool:
    """Whether the line is staffed at this instant."""
    return any(True for _ in open_periods(schedule, when, when + timedelta(seconds=1)))


# Reading and writing schedules as text (the line settings form) -----------------------


class BadHours(ValueError):
    """A time range that cannot be read: `code` is format, time, order or overlap."""

    def __init__(self, code: str, text: str):
        super().__init__(code)
        self.code = code
        self.text = text[:20]


_INTERVAL = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*[-–~〜]\s*(\d{1,2})[:.h](\d{2})\s*$")


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """ "09:00-12:00, 13:00-17:30" → ((540, 720), (780, 1050)); "" → closed that day.
    Raises BadHours naming what is wrong (the form words it in the user's language)."""
    intervals: list[Interval] = []
    for part in re.split(r"[,、;]", text):
        if not part.strip():
            continue
        match = _INTERVAL.match(part)
        if not match:
            raise BadHours("format", part.strip())
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start > DAY_MINUTES or end > DAY_MINUTES:
            raise BadHours("time", part.strip())
        if end <= start:
            raise BadHours("order", part.strip())
        intervals.append((start, end))
    intervals.sort()
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if start < end:
            raise BadHours("overlap", text.strip())
    return tuple(intervals)


def format_intervals(intervals: Iterable[Interval]) -> str:
    return ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in intervals)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
