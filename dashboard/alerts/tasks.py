"""The background jobs (Django's tasks framework; run by `manage.py run_worker`)."""

from __future__ import annotations

from django.tasks import task

from dashboard.alerts import delivery, retention, rules


@task()
def evaluate_alerts() -> dict[str, int]:
    """The minute's job: evaluate every rule, then sweep deliveries (see delivery.sweep)."""
    created = rules.evaluate_all()
    swept = delivery.sweep()
    return {"alerts": created, **swept}


@task()
def deliver(delivery_id: int) -> str:
    """Send one delivery (at most once; see delivery.py)."""
    return str(delivery.attempt(delivery_id))


@task()
def prune_alerts() -> dict[str, int]:
    """The day's clean-up: alerts (numbers, names) past ALERTS_RETENTION_DAYS, and the
    job rows of finished jobs past a week."""
    return retention.prune()
