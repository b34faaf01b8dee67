"""Delete access-log rows older than ACCESS_LOG_RETENTION_DAYS (run it daily, e.g. from cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.lines.audit import prune_access_log, retention_days


class Command(BaseCommand):
    help = "Delete access-log entries older than ACCESS_LOG_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, help="Override ACCESS_LOG_RETENTION_DAYS.")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, **options) -> None:
        days = options["days"] if options["days"] is not None else retention_days()
        if days < 1:
            raise CommandError("--days must be at least 1.")
        count = prune_access_log(days, dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(f"{verb} {count} access-log entries older than {days} days.")
