"""The demo's inbox: what a newcomer sees on the Support phone's "To follow up" screen."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dashboard.inbox import people
from dashboard.inbox.models import CallerStatus, Episode, InboxSettings
from dashboard.inbox.sync import sync_line
from dashboard.inbox.targets import save_target
from dashboard.lines.models import Line

TEAMMATE = "alex"  # a second support person, so some callers are someone else's
# Weekdays 09:00–17:30 with a lunch break, Saturday morning, closed on Sunday and holidays.
DEMO_HOURS = {
    **{str(day): [[540, 720], [780, 1050]] for day in range(5)},
    "5": [[600, 780]],
    "6": [],
}
DEMO_CLOSED_DAYS = ["2026-12-25", "2027-01-01"]


def setup(line: Line, group: Group) -> None:
    """Give `line` a 30-minute target in Brussels business hours, file its calls from the
    demo provider (callbacks detected), and have two people at work on it: a few callers
    claimed by the demo user and by a teammate, one marked handled with a note. Runs once."""
    if InboxSettings.objects.filter(line=line).exists():
        return
    owner = line.owner
    teammate, created = get_user_model().objects.get_or_create(username=TEAMMATE)
    if created:
        teammate.set_unusable_password()  # a name in the demo, not a login
        teammate.save()
    teammate.groups.add(group)
    sync_line(line)
    save_target(
        line,
        owner,
        target_minutes=30,
        time_zone="Europe/Brussels",
        weekly_hours=DEMO_HOURS,
        closed_days=DEMO_CLOSED_DAYS,
    )
    waiting = list(
        Episode.objects.filter(line=line, status=CallerStatus.OPEN).order_by("first_attempt_at")
    )
    for episode in waiting[:2]:
        people.claim(line, owner, episode.pk)
    for episode in waiting[2:4]:
        people.claim(line, teammate, episode.pk)
    if len(waiting) > 4:
        handled = waiting[4]
        people.mark(
            line,
            teammate,
            handled.pk,
            CallerStatus.HANDLED,
            "Answered by e-mail",
            handled.version,
        )
