"""Set a line's webhook signing secret from standard input; print its webhook URL path."""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from dashboard.lines.models import Line
from dashboard.webhooks import services
from dashboard.webhooks.forms import MAX_SECRET_LENGTH, clean_secret_text

MAX_STDIN_CHARS = MAX_SECRET_LENGTH * 4


class Command(BaseCommand):
    help = (
        "Store the signing secret SMSMobileAPI showed for LINE_ID's webhook destination, read "
        "from standard input (argv is visible to other users of the machine). --next stores "
        "it as the next secret during a rotation. Prints the line's webhook URL path."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("line_id", type=int, help="The line's id (see list_lines).")
        parser.add_argument(
            "--next",
            action="store_true",
            help="Store it as the next secret (both are accepted until the rotation ends).",
        )

    def handle(self, *args, **options) -> None:
        line = Line.objects.filter(pk=options["line_id"]).first()
        if line is None:
            raise CommandError(f"No line has the id {options['line_id']}.")
        secret = self._read_secret(options.get("stdin") or sys.stdin)
        endpoint = services.set_secret(line, secret, next_secret=options["next"], actor=None)
        which = "next signing secret" if options["next"] else "signing secret"
        self.stderr.write(f"Stored the {which} of line {line.pk} “{line.label}” (encrypted).")
        # Only the path: this command does not know the host the provider reaches us on.
        self.stdout.write(reverse("webhook-receive", args=[endpoint.token]))

    def _read_secret(self, stdin) -> str:
        if stdin.isatty():
            raw = getpass.getpass("Signing secret (not echoed): ")
        else:
            raw = stdin.read(MAX_STDIN_CHARS + 1)
        if len(raw) > MAX_STDIN_CHARS:
            raise CommandError(
                "Standard input is too long to be a signing secret; nothing was saved."
            )
        try:
            return clean_secret_text(raw)
        except ValidationError as exc:
            raise CommandError(f"Secret on standard input: {' '.join(exc.messages)}") from None
