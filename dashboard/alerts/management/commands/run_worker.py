"""`manage.py run_worker`: the background worker (django-tasks-db's) plus the scheduler.

The jobs are django-tasks-db's `db_worker` loop, unchanged; beside it, a thread calls
`schedule.tick()` every few seconds so that the rule evaluation is queued once per
ALERTS_EVALUATE_SECONDS across every worker (schedule.py), and runs the webhook events'
effects that a stopped web process left pending (webhooks/effects.py `sweep`). Start as
many as you like on PostgreSQL; on SQLite one is plenty.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string

from dashboard.alerts import schedule
from dashboard.webhooks import effects as webhook_effects

logger = logging.getLogger("dashboard.alerts")


class Command(BaseCommand):
    help = "Run the background worker: queued jobs and the alert rules' scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--worker-id", default="", help="unique per worker (default: random)")

    def handle(self, *args, worker_id: str = "", **options):
        worker_id = worker_id or get_random_string(16)
        stop = threading.Event()
        ticker = threading.Thread(
            target=self.tick_forever, args=(worker_id, stop), name="scheduler", daemon=True
        )
        ticker.start()
        logger.info("worker %s started", worker_id)
        try:
            call_command(
                "db_worker",
                worker_id=worker_id,
                interval=min(1.0, float(settings.ALERTS_EVALUATE_SECONDS)),
                reload=False,
                verbosity=options.get("verbosity", 1),
            )
        finally:
            stop.set()

    def tick_forever(self, worker_id: str, stop: threading.Event) -> None:
        pause = min(5.0, float(settings.ALERTS_EVALUATE_SECONDS) / 2)
        while True:
            try:
                close_old_connections()
                schedule.tick(worker_id)
            except Exception:  # the database away for a moment must not end the scheduler
                logger.exception("alerts scheduler: tick failed; trying again")
                connection.close()
            try:
                # Webhook events whose effects a stopped web process left pending.
                webhook_effects.sweep()
            except Exception:
                logger.exception("webhook effects sweep failed; trying again")
                connection.close()
            if stop.wait(pause):
                return
