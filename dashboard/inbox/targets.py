"""A line's target time and business hours, read from its `InboxSettings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from dashboard.inbox.hours import (
    Schedule,
    add_business_minutes,
    business_minutes_between,
    format_intervals,
)
from dashboard.inbox.models import CallerStatus, Episode, InboxSettings
from dashboard.lines import audit
from dashboard.lines.models import AuditAction, Line


@dataclass(frozen=True)
class Target:
    """Minutes of business hours a missed caller may wait (None: no target)."""

    minutes: int | None
    schedule: Schedule

    def due(self, first_attempt_at: datetime) -> datetime | None:
        """When an episode that began at `first_attempt_at` becomes overdue."""
        if self.minutes is None:
            return None
        return add_business_minutes(self.schedule, first_attempt_at, self.minutes)

    def waited(self, start: datetime, end: datetime | None = None) -> timedelta:
        """Business time between two instants (until now by default)."""
        minutes = business_minutes_between(self.schedule, start, end or timezone.now())
        return timedelta(minutes=minutes)


def schedule_from_settings(settings: InboxSettings | None) -> Schedule:
    """The `Schedule` stored for a line (always open in UTC when nothing is set)."""
    if settings is None:
        return Schedule.always_open()
    try:
        zone = ZoneInfo(settings.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    weekly = None
    if isinstance(settings.weekly_hours, dict):
        weekly = tuple(
            tuple(
                (int(a), int(b))
                for a, b in settings.weekly_hours.get(str(day)) or ()
                if 0 <= int(a) < int(b) <= 1440
            )
            for day in range(7)
        )
    closed = set()
    for text in settings.closed_days or ():
        try:
            closed.add(date.fromisoformat(str(text)))
        except ValueError:
            continue
    return Schedule(zone=zone, weekly=weekly, closed_days=frozenset(closed))


def settings_for(line: Line) -> InboxSettings | None:
    return InboxSettings.objects.filter(line=line).first()


def target_for(line: Line) -> Target:
    """The line's target time and schedule, in one query."""
    settings = settings_for(line)
    return Target(
        minutes=settings.target_minutes if settings else None,
        schedule=schedule_from_settings(settings),
    )


def business_schedule(line: Line) -> Schedule:
    """The line's business hours (for alerts: `hours.business_minutes_between`)."""
    return target_for(line).schedule


def initial_form_values(line: Line) -> dict:
    """What the settings form shows for a line (its stored values, or the defaults)."""
    stored = settings_for(line)
    schedule = schedule_from_settings(stored)
    values = {
        "target_minutes": stored.target_minutes if stored else None,
        "time_zone": stored.time_zone if stored else django_settings.TIME_ZONE,
        "use_hours": bool(stored and stored.weekly_hours is not None),
        "closed_days": "\n".join(sorted(d.isoformat() for d in schedule.closed_days)),
    }
    weekly = schedule.weekly or ((((540, 1020),),) * 5 + ((), ()))  # weekdays 9–17 to start
    for day in range(7):
        values[f"day_{day}"] = format_intervals(weekly[day])
    return values


def save_target(line: Line, actor, *, target_minutes, time_zone, weekly_hours, closed_days) -> int:
    """Store the line's target and hours, move every open episode's due time to match,
    and audit it; returns how many open callers were re-timed."""
    with transaction.atomic():
        stored, _created = InboxSettings.objects.update_or_create(
            line=line,
            defaults={
                "target_minutes": target_minutes,
                "time_zone": time_zone,
                "weekly_hours": weekly_hours,
                "closed_days": closed_days,
            },
        )
        target = Target(target_minutes, schedule_from_settings(stored))
        episodes = list(Episode.objects.filter(line=line, status=CallerStatus.OPEN))
        for episode in episodes:
            episode.due_at = target.due(episode.first_attempt_at)
        Episode.objects.bulk_update(episodes, ["due_at"], batch_size=500)
        audit.record(
            line,
            actor,
            AuditAction.INBOX_SETTINGS_CHANGED,
            target_minutes=target_minutes,
            time_zone=time_zone,
            business_hours=weekly_hours is not None,
            closed_days=len(closed_days),
        )
    return len(episodes)
