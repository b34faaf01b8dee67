"""The rule evaluation is queued once per interval, whichever and however many workers
tick (a lock on the scheduler row), and only by workers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from dashboard.alerts import schedule
from dashboard.alerts.models import SchedulerClock

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
EVALUATE = "dashboard.alerts.tasks.evaluate_alerts"


def queued() -> int:
    return DBTaskResult.objects.filter(task_path=EVALUATE).count()


def test_one_evaluation_per_interval_whoever_ticks(db, settings):
    settings.ALERTS_EVALUATE_SECONDS = 60
    assert schedule.tick("worker-a", now=NOW) is True
    assert schedule.tick("worker-b", now=NOW + timedelta(seconds=10)) is False
    assert schedule.tick("worker-a", now=NOW + timedelta(seconds=59)) is False
    assert queued() == 1
    assert schedule.tick("worker-b", now=NOW + timedelta(seconds=60)) is True
    assert queued() == 2
    clock = SchedulerClock.objects.get(name=schedule.CLOCK)
    assert clock.last_worker == "worker-b"
    assert clock.next_run_at == NOW + timedelta(seconds=120)


def test_workers_ticking_at_the_same_moment_queue_one_evaluation(transactional_db, settings):
    settings.ALERTS_EVALUATE_SECONDS = 60
    schedule.tick("warm-up", now=NOW - timedelta(minutes=5))  # the row exists
    start = threading.Barrier(8)
    results: list[bool] = []

    def worker(n: int) -> None:
        start.wait()
        try:
            results.append(schedule.tick(f"worker-{n}", now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]
    assert queued() == 2  # the warm-up's and exactly one for NOW


@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/"])
def test_a_web_request_never_evaluates_rules(client, db, path):
    client.get(path)
    assert queued() == 0
    assert not SchedulerClock.objects.exists()


def test_the_daily_clean_up_is_queued_once_a_day(db, settings):
    settings.ALERTS_EVALUATE_SECONDS = 60
    prune = "dashboard.alerts.tasks.prune_alerts"
    for minute in range(0, 180, 1):
        schedule.tick("worker-a", now=NOW + timedelta(minutes=minute))
    assert DBTaskResult.objects.filter(task_path=prune).count() == 1
    schedule.tick("worker-b", now=NOW + timedelta(hours=24))
    assert DBTaskResult.objects.filter(task_path=prune).count() == 2


def test_old_alerts_are_deleted_but_never_one_still_to_be_sent(line, settings):
    from django.utils import timezone

    from dashboard.alerts import retention
    from dashboard.alerts.models import Alert, Delivery, DeliveryState
    from tests.alerting import chat_destination, spike_alert, spike_rule

    settings.ALERTS_RETENTION_DAYS = 90
    rule = spike_rule(line, chat_destination(line, 9))
    now = timezone.now()
    old_sent = spike_alert(rule, now=now - timedelta(days=91))
    old_pending = spike_alert(rule, now=now - timedelta(days=92))
    recent = spike_alert(rule, now=now - timedelta(days=89))
    Delivery.objects.filter(alert=old_sent).update(state=DeliveryState.SENT)
    Delivery.objects.filter(alert=recent).update(state=DeliveryState.SENT)
    done = DBTaskResult.objects.filter(task_path="dashboard.alerts.tasks.deliver")
    done.update(status="SUCCESSFUL", finished_at=now - timedelta(days=8))
    result = retention.prune(now=now)
    assert set(Alert.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert result == {"alerts": 1, "jobs": 3} and not done.exists()
