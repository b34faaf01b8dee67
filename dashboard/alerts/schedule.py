"""Who evaluates the rules this minute: the first worker to lock the scheduler row.

Every worker calls `tick()` every few seconds. The row `SchedulerClock("alerts")` is
locked (`select_for_update` on PostgreSQL; on SQLite every transaction takes the write
lock when it begins, settings.py), and only the worker that finds the evaluation due
moves `next_run_at` on and queues the job, in the same transaction: however many
workers or instances run, one evaluation is queued per interval. Never in a web request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dashboard.alerts.models import SchedulerClock

CLOCK = "alerts"
PRUNE_CLOCK = "prune"
PRUNE_EVERY = timedelta(hours=24)


def tick(worker_id: str, *, now: datetime | None = None) -> bool:
    """Queue the rule evaluation if it is due and no other worker did; True if queued.
    Once a day, the same way, the clean-up of old alerts and job rows."""
    from dashboard.alerts.tasks import evaluate_alerts, prune_alerts

    now = now or timezone.now()
    every = timedelta(seconds=float(settings.ALERTS_EVALUATE_SECONDS))
    queued = _take(CLOCK, every, worker_id, now, evaluate_alerts)
    _take(PRUNE_CLOCK, PRUNE_EVERY, worker_id, now, prune_alerts)
    return queued


def _take(name: str, every: timedelta, worker_id: str, now: datetime, job) -> bool:
    SchedulerClock.objects.get_or_create(name=name)
    with transaction.atomic():
        clock = SchedulerClock.objects.select_for_update().get(name=name)
        if clock.next_run_at is not None and clock.next_run_at > now:
            return False
        clock.next_run_at = now + every
        clock.last_run_at = now
        clock.last_worker = worker_id[:64]
        clock.save()
        job.enqueue()  # in the same transaction: queued exactly when the clock moved
    return True
