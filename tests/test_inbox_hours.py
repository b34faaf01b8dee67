"""Business hours: the pure arithmetic behind target times and alerts (dashboard/inbox/hours.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.inbox.hours import (
    BadHours,
    Schedule,
    add_business_minutes,
    business_minutes_between,
    format_intervals,
    is_open_at,
    parse_intervals,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
NINE_TO_FIVE = ((540, 1020),)
WEEKDAYS_9_17 = Schedule(zone=BRUSSELS, weekly=(NINE_TO_FIVE,) * 5 + ((), ()))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


def test_always_open_counts_every_minute():
    start = datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert (
        business_minutes_between(Schedule.always_open(), start, start + timedelta(hours=5)) == 300
    )


def test_only_the_open_hours_of_each_day_count():
    # Friday 16:00 → Monday 10:00: one hour on Friday, one on Monday; the weekend is closed.
    assert (
        business_minutes_between(WEEKDAYS_9_17, local(2026, 12, 4, 16), local(2026, 12, 7, 10))
        == 120
    )


def test_a_call_outside_hours_starts_counting_at_opening():
    assert (
        business_minutes_between(WEEKDAYS_9_17, local(2026, 12, 3, 20), local(2026, 12, 4, 9, 30))
        == 30
    )
    assert add_business_minutes(WEEKDAYS_9_17, local(2026, 12, 3, 20), 30) == local(
        2026, 12, 4, 9, 30
    )


def test_closed_days_do_not_count():
    christmas = Schedule(
        zone=BRUSSELS, weekly=WEEKDAYS_9_17.weekly, closed_days=frozenset({date(2026, 12, 25)})
    )
    # Thursday 24th 16:30 + 60 minutes: 30 that day, Friday 25th closed, 30 on Monday 28th.
    assert add_business_minutes(christmas, local(2026, 12, 24, 16, 30), 60) == local(
        2026, 12, 28, 9, 30
    )
    assert (
        business_minutes_between(christmas, local(2026, 12, 24, 16, 30), local(2026, 12, 28, 9, 30))
        == 60
    )


def test_split_days_and_the_deadline_inside_the_second_interval():
    split = Schedule(zone=BRUSSELS, weekly=(((540, 720), (780, 1020)),) * 7)
    assert add_business_minutes(split, local(2026, 12, 4, 11, 30), 60) == local(2026, 12, 4, 13, 30)
    assert business_minutes_between(split, local(2026, 12, 4, 11), local(2026, 12, 4, 14)) == 120


def test_hours_are_wall_clock_hours_in_the_lines_zone_across_dst():
    # Brussels goes to summer time on Sunday 29 March 2026 at 02:00 (→ 03:00).
    all_day = Schedule(zone=BRUSSELS, weekly=(((0, 1440),),) * 7)
    sunday = local(2026, 3, 29)
    assert business_minutes_between(all_day, sunday, local(2026, 3, 30)) == 23 * 60
    nine_to_five = Schedule(zone=BRUSSELS, weekly=(NINE_TO_FIVE,) * 7)
    # 09:00 Brussels is 08:00 UTC before the change and 07:00 UTC after it.
    assert add_business_minutes(nine_to_five, datetime(2026, 3, 28, 20, tzinfo=UTC), 1) == datetime(
        2026, 3, 29, 7, 1, tzinfo=UTC
    )


def test_no_opening_hours_at_all_has_no_deadline():
    never = Schedule(zone=BRUSSELS, weekly=((),) * 7)
    assert add_business_minutes(never, local(2026, 12, 4, 10), 5) is None
    assert business_minutes_between(never, local(2026, 12, 4), local(2026, 12, 10)) == 0


def test_is_open_at():
    assert is_open_at(WEEKDAYS_9_17, local(2026, 12, 4, 9))
    assert not is_open_at(WEEKDAYS_9_17, local(2026, 12, 4, 17))
    assert not is_open_at(WEEKDAYS_9_17, local(2026, 12, 5, 12))  # Saturday


def test_end_before_start_is_zero():
    assert (
        business_minutes_between(
            Schedule.always_open(), local(2026, 12, 4, 10), local(2026, 12, 4, 9)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("09:00-17:00", ((540, 1020),)),
        ("13:00-17:30, 9:00-12:00", ((540, 720), (780, 1050))),
        ("9.00 – 12.00", ((540, 720),)),
        ("00:00-24:00", ((0, 1440),)),
        ("", ()),
    ],
)
def test_opening_hours_are_read_from_text(text, intervals):
    assert parse_intervals(text) == intervals
    assert parse_intervals(format_intervals(intervals)) == intervals


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("nine to five", "format"),
        ("17:00-09:00", "order"),
        ("09:00-12:00, 11:00-13:00", "overlap"),
        ("09:75-10:00", "time"),
        ("09:00-25:00", "time"),
    ],
)
def test_unreadable_hours_say_what_is_wrong(text, code):
    with pytest.raises(BadHours) as caught:
        parse_intervals(text)
    assert caught.value.code == code
