"""Create the demo user and lines on the built-in demo upstream (demo mode only)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.alerts import demo as alerts_demo
from dashboard.inbox import demo as inbox_demo
from dashboard.lines.models import KeyStatus, Line
from dashboard.smsmobileapi.conf import uses_demo_upstream
from dashboard.webhooks import services

WEBHOOK_DEMO_KEYS = ("demo-support", "demo-sales")
# (label, demo key): two realistic lines, and one per error state for trying the banners.
DEMO_LINES = (
    ("Support phone", "demo-support"),
    ("Sales mobile", "demo-sales"),
    ("Expired subscription (demo)", "demo-expired"),
    ("Rejected key (demo)", "demo-invalid"),
    ("Provider failing (demo)", "demo-failing"),
    ("Rate limited (demo)", "demo-ratelimited"),
)


class Command(BaseCommand):
    help = "Create user demo/demo owning lines on the built-in demo upstream (DEMO_MODE only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("setup_demo runs only with DEMO_MODE=true (it creates demo/demo).")
        if not uses_demo_upstream():
            raise CommandError(
                "setup_demo needs SMSMOBILEAPI_BASE_URL=demo (the built-in upstream)."
            )
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username="demo")
            if created:
                user.set_password("demo")
                user.save()
            support, _ = Group.objects.get_or_create(name="support")
            user.groups.add(support)
            for label, key in DEMO_LINES:
                line = Line.objects.filter(owner=user, label=label).first()
                if line is None:
                    line = Line(owner=user, label=label, default_region="BE")
                    line.set_api_key(key)
                    line.key_status = KeyStatus.UNCHECKED
                    line.save()
                line.shared_with_groups.add(support)
                if key == "demo-support":
                    inbox_demo.setup(line, support)  # a team at work on its missed callers
                    alerts_demo.setup(line)  # its alerts land on its Alerts page
                if key in WEBHOOK_DEMO_KEYS and not services.endpoint_for(line).has_secret:
                    # make demo's provider signs its pushed calls with it (the secret stays
                    # encrypted here like any other; deliver_demo_webhooks reads it).
                    services.set_secret(line, secrets.token_urlsafe(32))
        self.stdout.write("Demo user: demo / demo")
