"""Add a line from the command line; the key comes from standard input, never argv."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboard.lines import services
from dashboard.lines.forms import clean_api_key_text, clean_label_text
from dashboard.lines.models import KeyStatus, Line

# More than any key plus a newline: a runaway pipe is refused, not read into memory.
MAX_STDIN_CHARS = 4096


class Command(BaseCommand):
    help = (
        "Add a line owned by USERNAME. The API key is read from standard input (argv is "
        "visible to other users of the machine), e.g. `add_line --owner olivia --label "
        "'Support phone' < key.txt`. Prints only the key's last 4 characters."
    )
    # Tests pass a stream as `stdin=` to call_command (as createsuperuser allows).
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--owner", required=True, help="Username of the line's owner.")
        parser.add_argument("--label", required=True, help="Label, e.g. 'Support phone'.")
        parser.add_argument(
            "--share-group",
            action="append",
            default=[],
            metavar="NAME",
            help="Share with this existing group (repeatable).",
        )
        parser.add_argument(
            "--no-check", action="store_true", help="Save without checking the key live."
        )

    def handle(self, *args, **options) -> None:
        owner = self._owner(options["owner"])
        try:
            label = clean_label_text(options["label"])
        except ValidationError as exc:
            raise CommandError(f"--label: {' '.join(exc.messages)}") from None
        if Line.objects.filter(owner=owner, label=label).exists():
            raise CommandError(services.duplicate_label_message(label))
        groups = self._groups(options["share_group"])
        api_key = self._read_key(options.get("stdin") or sys.stdin)
        try:
            line, result = services.create_line(
                owner,
                label,
                api_key,
                actor=None,
                share_groups=groups,
                check=not options["no_check"],
            )
        except services.LineError as exc:
            raise CommandError(exc.message) from None
        shared = ", ".join(g.name for g in groups) or "nobody"
        self.stdout.write(
            f"Added line {line.pk} “{line.label}” for {owner.get_username()}: key …{line.key_hint}, "
            f"status: {KeyStatus(line.key_status).label}; shared with groups: {shared}."
        )
        if result.status not in (KeyStatus.VALID, KeyStatus.UNCHECKED):
            self.stderr.write(self.style.WARNING(result.message))

    def _owner(self, username: str):
        user_model = get_user_model()
        try:
            return user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"--owner: no user is called “{username}”.") from None

    def _groups(self, names: list[str]) -> list[Group]:
        groups, missing = [], []
        for name in dict.fromkeys(n.strip() for n in names):  # keep order, drop repeats
            group = Group.objects.filter(name=name).first()
            (groups if group else missing).append(group or name)
        if missing:
            # Groups are not created here: a typo must not make an empty group silently.
            raise CommandError(
                "--share-group: no group called "
                + ", ".join(f"“{n}”" for n in missing)
                + ". Create it first (admin or SSO); nothing was saved."
            )
        return groups

    def _read_key(self, stdin) -> str:
        if stdin.isatty():
            raw = getpass.getpass("API key (not echoed): ")
        else:
            raw = stdin.read(MAX_STDIN_CHARS + 1)
        if len(raw) > MAX_STDIN_CHARS:
            raise CommandError("Standard input is too long to be an API key; nothing was saved.")
        # One trailing newline is how `echo` and files end; anything inside is an error.
        try:
            return clean_api_key_text(raw)
        except ValidationError as exc:
            raise CommandError(f"API key on standard input: {' '.join(exc.messages)}") from None
