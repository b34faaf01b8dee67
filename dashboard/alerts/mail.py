"""E-mail without EMAIL_URL: refuse loudly instead of pretending to send."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class NotConfigured(Exception):
    pass


class NotConfiguredBackend(BaseEmailBackend):
    """The e-mail backend when EMAIL_URL is unset: every send fails and says why, so an
    e-mail destination shows as failing rather than silently losing its alerts."""

    def send_messages(self, email_messages):
        raise NotConfigured("E-mail is not set up: set EMAIL_URL (README, Configuration).")
