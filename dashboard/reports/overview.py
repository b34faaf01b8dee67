"""The overview's numbers: pure functions over lists of `Call`, no HTTP, no Django request.

Everything is computed in the viewer's zone: a "day" is a local calendar day (23 or 25
hours long on DST changes), the heat map uses local weekday and hour.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.smsmobileapi.client import local_midnight
from dashboard.smsmobileapi.records import Call, CallKind

DEFAULT_DAYS = 30
TOP_CALLERS = 10
HEAT_LEVELS = 4  # intensity classes heat-1..heat-4; heat-0 is "no missed calls"


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive calendar days in `tz_name`."""

    start: date
    end: date
    tz_name: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        """The period of equal length just before this one."""
        end = self.start - timedelta(days=1)
        return DateRange(end - timedelta(days=self.days - 1), end, self.tz_name)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first instant, first instant after) in UTC, from the zone's local midnights."""
        after = self.end + timedelta(days=1)
        return local_midnight(self.start, self.tz_name), local_midnight(after, self.tz_name)

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def resolve_range(
    date_from: date | None, date_to: date | None, today: date, *, max_days: int
) -> tuple[date, date, bool]:
    """First and last day to report on, and whether the asked range was shortened.

    Defaults to the last `DEFAULT_DAYS` days ending today; one missing end is filled in
    from the other; a range longer than `max_days` keeps its end and loses its oldest days.
    """
    if date_from is None and date_to is None:
        date_to = today
    if date_to is None:
        date_to = max(date_from, today) if date_from else today
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    shortened = False
    if (date_to - date_from).days + 1 > max_days:
        date_from = date_to - timedelta(days=max_days - 1)
        shortened = True
    return date_from, date_to, shortened


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    missed: int = 0
    incoming: int = 0
    outgoing: int = 0

    @property
    def total(self) -> int:
        return self.missed + self.incoming + self.outgoing


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Talk time of answered calls, in seconds."""

    count: int
    median: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class Caller:
    number: str
    name: str  # the most recent non-empty name the phone had for this number
    missed: int
    incoming: int
    last_at: datetime

    @property
    def total(self) -> int:
        return self.missed + self.incoming


@dataclass(frozen=True, slots=True)
class PeriodStats:
    range: DateRange
    days: tuple[DayCount, ...]
    totals: dict[CallKind, int]
    incoming_duration: DurationStats
    outgoing_duration: DurationStats
    heat: tuple[tuple[int, ...], ...]  # [weekday 0=Monday][local hour] -> missed calls
    top_callers: tuple[Caller, ...]

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def missed_rate(self) -> float | None:
        """Missed calls among calls that rang here (missed + answered incoming); None if none."""
        rang = self.totals[CallKind.MISSED] + self.totals[CallKind.INCOMING]
        return self.totals[CallKind.MISSED] / rang if rang else None

    @property
    def heat_max(self) -> int:
        return max((max(row) for row in self.heat), default=0)

    @property
    def busiest_day(self) -> DayCount | None:
        best = max(self.days, key=lambda d: d.total, default=None)
        return best if best and best.total else None


def in_range(calls: Iterable[Call], period: DateRange) -> list[Call]:
    """Only the calls inside the period's exact instants (missed calls are fetched by the
    provider's calendar days, which may be another zone's: a day wider on each side)."""
    start, after = period.bounds()
    return [c for c in calls if start <= c.started_at < after]


def duration_stats(durations: Sequence[int]) -> DurationStats:
    if not durations:
        return DurationStats(0, None, None)
    return DurationStats(len(durations), statistics.median(durations), statistics.fmean(durations))


def summarise(calls: Iterable[Call], period: DateRange, *, top: int = TOP_CALLERS) -> PeriodStats:
    """Every number the overview shows for one period. Calls outside it are ignored."""
    zone = ZoneInfo(period.tz_name)
    calls = in_range(calls, period)
    per_day: dict[date, Counter[CallKind]] = {d: Counter() for d in period.each_day()}
    heat = [[0] * 24 for _ in range(7)]
    totals: Counter[CallKind] = Counter()
    incoming_durations: list[int] = []
    outgoing_durations: list[int] = []
    for call in calls:
        local = call.started_at.astimezone(zone)
        per_day[local.date()][call.kind] += 1
        totals[call.kind] += 1
        if call.kind is CallKind.MISSED:
            # On the autumn DST change 02:00-02:59 happens twice: both land in hour 2.
            heat[local.weekday()][local.hour] += 1
        elif call.duration is not None:
            if call.kind is CallKind.INCOMING:
                incoming_durations.append(call.duration)
            elif call.duration > 0:
                # A 0-second outgoing call was never picked up: not talk time.
                outgoing_durations.append(call.duration)
    days = tuple(
        DayCount(
            day,
            missed=counts[CallKind.MISSED],
            incoming=counts[CallKind.INCOMING],
            outgoing=counts[CallKind.OUTGOING],
        )
        for day, counts in per_day.items()
    )
    return PeriodStats(
        range=period,
        days=days,
        totals={kind: totals[kind] for kind in CallKind},
        incoming_duration=duration_stats(incoming_durations),
        outgoing_duration=duration_stats(outgoing_durations),
        heat=tuple(tuple(row) for row in heat),
        top_callers=top_callers(calls, top=top),
    )


def top_callers(calls: Iterable[Call], *, top: int = TOP_CALLERS) -> tuple[Caller, ...]:
    """Who called most (missed + answered incoming), by number; hidden numbers left out."""
    groups: dict[str, list[Call]] = {}
    for call in calls:
        number = call.number.strip()
        if call.kind is CallKind.OUTGOING or not number:
            continue
        groups.setdefault(number, []).append(call)
    callers = []
    for number, group in groups.items():
        group.sort(key=lambda c: c.started_at, reverse=True)
        name = next((c.name for c in group if c.name.strip()), "")
        callers.append(
            Caller(
                number=number,
                name=name,
                missed=sum(1 for c in group if c.kind is CallKind.MISSED),
                incoming=sum(1 for c in group if c.kind is CallKind.INCOMING),
                last_at=group[0].started_at,
            )
        )
    # Most calls first; ties go to the most recent caller, then the number, so it is stable.
    callers.sort(key=lambda c: (-c.total, -c.last_at.timestamp(), c.number))
    return tuple(callers[:top])


def heat_level(count: int, maximum: int) -> int:
    """0 for no calls, else 1..HEAT_LEVELS relative to the busiest cell."""
    if count <= 0 or maximum <= 0:
        return 0
    return max(1, -(-count * HEAT_LEVELS // maximum))


@dataclass(frozen=True)
class KindReading:
    """How one kind's calls were read for a period: the bounded-work facts the page states."""

    kind: CallKind
    rows: int
    pages: int
    truncated: bool
    error_message: str = ""  # the upstream error's user message, already a plain string
    stale: bool = False  # partly from the stale cache: shown, but not cached as an overview
    transient: bool = False  # the error may pass: the banner offers "Try again"


@dataclass(frozen=True)
class Overview:
    current: PeriodStats
    previous_missed_rate: float | None
    previous_range: DateRange
    readings: tuple[KindReading, ...]
    computed_at: datetime
    max_rows: int
    previous_readings: tuple[KindReading, ...] = field(default=())

    @property
    def missed_rate(self) -> float | None:
        """None when missed or incoming calls could not be read: half the data is no rate."""
        rate_kinds = (CallKind.MISSED, CallKind.INCOMING)
        if any(r.error_message for r in self.readings if r.kind in rate_kinds):
            return None
        return self.current.missed_rate

    @property
    def missed_rate_change(self) -> float | None:
        """Change in the missed-call rate against the previous period, in rate units."""
        now, before = self.missed_rate, self.previous_missed_rate
        if now is None or before is None:
            return None
        return now - before

    @property
    def truncated_kinds(self) -> list[CallKind]:
        return [r.kind for r in self.readings if r.truncated]

    @property
    def previous_truncated(self) -> bool:
        return any(r.truncated for r in self.previous_readings)

    @property
    def errors(self) -> list[KindReading]:
        return [r for r in (*self.readings, *self.previous_readings) if r.error_message]

    @property
    def problems(self) -> list[tuple[str, tuple[CallKind, ...], bool]]:
        """Each distinct upstream message once, with the kinds it hit and whether trying again
        may help: one failing provider is one banner, not one per kind and period."""
        kinds: dict[str, list[CallKind]] = {}
        transient: dict[str, bool] = {}
        for reading in self.errors:
            hit = kinds.setdefault(reading.error_message, [])
            if reading.kind not in hit:
                hit.append(reading.kind)
            transient[reading.error_message] = transient.get(reading.error_message) or (
                reading.transient
            )
        return [(message, tuple(hit), transient[message]) for message, hit in kinds.items()]

    @property
    def missing_kinds(self) -> list[CallKind]:
        """Kinds of this period that could not be read: every figure would be wrong without them."""
        return [r.kind for r in self.readings if r.error_message]

    @property
    def missing_labels(self) -> str:
        return ", ".join(str(kind.label) for kind in self.missing_kinds)

    @property
    def previous_failed(self) -> bool:
        return any(r.error_message for r in self.previous_readings)

    @property
    def complete(self) -> bool:
        readings = (*self.readings, *self.previous_readings)
        return not self.errors and not any(r.stale for r in readings)
