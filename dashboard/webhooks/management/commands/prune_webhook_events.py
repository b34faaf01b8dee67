"""Delete stored webhook events older than WEBHOOK_EVENT_RETENTION_DAYS (run it daily)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.webhooks.services import prune_events, retention_days


class Command(BaseCommand):
    help = "Delete stored webhook call events older than WEBHOOK_EVENT_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, help="Override WEBHOOK_EVENT_RETENTION_DAYS.")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, **options) -> None:
        days = options["days"] if options["days"] is not None else retention_days()
        if days < 1:
            raise CommandError("--days must be at least 1.")
        count = prune_events(days, dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(f"{verb} {count} webhook events older than {days} days.")
