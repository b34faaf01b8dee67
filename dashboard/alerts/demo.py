"""The demo's alert rules: what a newcomer sees on the Support phone's Alerts page."""

from __future__ import annotations

from datetime import time, timedelta

from django.conf import settings
from django.utils import timezone

from dashboard.alerts.models import AlertRule, RuleKind
from dashboard.lines.models import Line

DEMO_EMAIL = "demo@example.com"


def setup(line: Line) -> None:
    """Give the demo user an address and `line` three rules whose alerts are e-mailed to
    the team: with `make demo` (EMAIL_URL=consolemail://) each e-mail is printed by the
    worker and listed under "Sent alerts" on the line's Alerts page."""
    owner = line.owner
    if not owner.email:
        owner.email = DEMO_EMAIL
        owner.save(update_fields=["email"])
    if AlertRule.objects.filter(line=line).exists():
        return
    common = {"line": line, "time_zone": settings.TIME_ZONE, "notify_members": True}
    waiting = AlertRule.objects.create(
        kind=RuleKind.WAITING, wait_minutes=30, repeat_minutes=240, **common
    )
    # As if made a day ago: the callers who fell overdue since are announced on the first
    # evaluation, so a newcomer finds alerts in the outbox within a minute.
    AlertRule.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(days=1))
    AlertRule.objects.create(kind=RuleKind.SPIKE, missed_count=2, window_minutes=60, **common)
    AlertRule.objects.create(kind=RuleKind.DIGEST, digest_time=time(7, 0), **common)
