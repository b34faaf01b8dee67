"""Re-encrypt every stored API key under the newest key in FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.lines import crypto
from dashboard.lines.models import Line


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API key under the first (newest) key in "
        "FIELD_ENCRYPTION_KEYS. Fails, changing nothing, if any key cannot be decrypted. "
        "Afterwards the older keys can be removed from the setting."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every key decrypts; change nothing."
        )

    def handle(self, *args, **options) -> None:
        try:
            crypto.validate_settings()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        with transaction.atomic():
            # Locked, so a key replaced meanwhile is not overwritten with its old value.
            lines = list(
                Line.objects.select_for_update().order_by("pk").only("pk", "encrypted_api_key")
            )
            unreadable = [line.pk for line in lines if not _decrypts(line.encrypted_api_key)]
            if unreadable:
                raise CommandError(
                    f"{len(unreadable)} stored key(s) cannot be decrypted with any key in "
                    f"{crypto.SETTING} (line id {', '.join(map(str, unreadable))}). Put the "
                    f"missing old key back into {crypto.SETTING}; nothing was changed."
                )
            older = sum(1 for line in lines if not crypto.is_current(line.encrypted_api_key))
            if options["dry_run"]:
                self.stdout.write(
                    f"{len(lines)} stored key(s) decrypt; {older} are under an older key. "
                    "Nothing was changed (--dry-run)."
                )
                return
            for line in lines:
                # .update(): rotating is not a change to the line (updated_at stays).
                Line.objects.filter(pk=line.pk).update(
                    encrypted_api_key=crypto.rotate(line.encrypted_api_key)
                )
        self.stdout.write(
            f"Re-encrypted {len(lines)} stored key(s) under the newest key in {crypto.SETTING} "
            f"({older} were under an older key). Older keys can now be removed from the setting."
        )


def _decrypts(token: str) -> bool:
    try:
        crypto.decrypt(token)
    except crypto.KeyDecryptionError:
        return False
    return True
