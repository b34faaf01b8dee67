"""List stored lines with their key hints only: never a key."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dashboard.lines.models import KeyStatus, Line


class Command(BaseCommand):
    help = "List lines: id, label, owner, key hint (last 4 characters), last check, shares."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--owner", help="Only lines owned by this username.")

    def handle(self, *args, **options) -> None:
        lines = (
            Line.objects.select_related("owner")
            .prefetch_related("shared_with_users", "shared_with_groups")
            .order_by("pk")
        )
        if options["owner"]:
            lines = lines.filter(owner__username=options["owner"])
        rows = [("ID", "LABEL", "OWNER", "KEY", "STATUS", "SHARED WITH")]
        for line in lines:
            shares = [u.get_username() for u in line.shared_with_users.all()]
            shares += [f"group:{g.name}" for g in line.shared_with_groups.all()]
            status = KeyStatus(line.key_status).label
            if line.key_checked_at:
                status += f" ({line.key_checked_at:%Y-%m-%d %H:%M})"
            rows.append(
                (
                    str(line.pk),
                    line.label,
                    line.owner.get_username(),
                    f"…{line.key_hint}",
                    str(status),
                    ", ".join(shares) or "-",
                )
            )
        if len(rows) == 1:
            self.stdout.write("No lines.")
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
