"""How long alerts and job rows are kept.

An alert's facts and message hold a caller's number and contact name: personal data,
kept ALERTS_RETENTION_DAYS (the audit trail keeps that an alert was sent, and to whom,
without the message). Finished job rows are only bookkeeping: a week.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.alerts.models import Alert, Delivery, DeliveryState

JOB_ROWS_KEPT = timedelta(days=7)


def prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete alerts older than the retention (never one still waiting to be sent) and
    finished job rows older than a week; how many of each."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(settings.ALERTS_RETENTION_DAYS))
    unsent = Delivery.objects.filter(
        state__in=[DeliveryState.PENDING, DeliveryState.RETRYING, DeliveryState.SENDING]
    ).values("alert")
    old_alerts = Alert.objects.filter(created_at__lt=cutoff).exclude(pk__in=unsent)
    _, deleted = old_alerts.delete()  # their deliveries go with them
    jobs, _ = DBTaskResult.objects.finished().filter(finished_at__lt=now - JOB_ROWS_KEPT).delete()
    return {"alerts": deleted.get("alerts.Alert", 0), "jobs": jobs}
