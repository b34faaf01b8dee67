"""A line's webhook endpoint (URL token, signing secrets, delivery counts) and the call
events it stored. Secrets are Fernet tokens (dashboard/lines/crypto.py), never clear text."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.lines import crypto
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import Call, CallKind

# 32 random bytes, URL-safe: the path alone must not be guessable (it says which line).
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class WebhookEndpoint(models.Model):
    """Where the provider delivers one line's events, and the secrets that sign them.

    During a rotation the line holds the current and the next secret: a delivery signed
    with either is accepted, until the owner makes the next one current.
    """

    line = models.OneToOneField(Line, on_delete=models.CASCADE, related_name="webhook")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    encrypted_secret = models.TextField(blank=True, default="", editable=False)
    encrypted_next_secret = models.TextField(blank=True, default="", editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True)
    next_secret_set_at = models.DateTimeField(null=True, blank=True)
    accepted_count = models.PositiveBigIntegerField(default=0)
    duplicate_count = models.PositiveBigIntegerField(default=0)
    refused_count = models.PositiveBigIntegerField(default=0)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    # One of services.Outcome's codes: what the last delivery got (accepted, bad signature…).
    last_outcome = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"webhook of line {self.line_id}"

    def __repr__(self) -> str:
        # Never the token nor a secret: reprs end up in logs and tracebacks.
        return f"<WebhookEndpoint line={self.line_id}>"

    @property
    def has_secret(self) -> bool:
        return bool(self.encrypted_secret)

    @property
    def has_next_secret(self) -> bool:
        return bool(self.encrypted_next_secret)

    def signing_secrets(self) -> list[str]:
        """The secrets a delivery may be signed with, in clear (for the verifier only).
        Raises KeyDecryptionError when FIELD_ENCRYPTION_KEYS lost the key."""
        tokens = [t for t in (self.encrypted_secret, self.encrypted_next_secret) if t]
        return [crypto.decrypt(t) for t in tokens]


class CallEventKind(models.TextChoices):
    MISSED = "call.missed", _("Missed call")
    INCOMING = "call.incoming", _("Incoming call")
    OUTGOING = "call.outgoing", _("Outgoing call")


class WebhookEvent(models.Model):
    """One call event as the provider pushed it, stored before it was acknowledged.

    Its primary key orders the line's live stream (`Last-Event-ID` resumes after it); the
    provider's event id is unique per line, so a retried delivery stores nothing new.
    """

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.UUIDField()
    type = models.CharField(max_length=32, choices=CallEventKind.choices)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The call as the event gave it (guid, number, name, duration, device, call time):
    # only known fields, each checked, never the raw body.
    call = models.JSONField(default=dict)
    # Set in the row that stores the event (before the 202), cleared in the transaction
    # that files it in the inbox (effects.py): a process killed in between loses nothing,
    # the worker's sweep runs what is left.
    effects_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["line", "event_id"], name="unique_event_per_line")
        ]
        indexes = [
            models.Index(
                fields=["line", "id"],
                condition=models.Q(effects_pending=True),
                name="webhook_event_effects_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} (line {self.line_id})"

    @property
    def kind(self) -> CallKind:
        return CallKind(self.type.removeprefix("call."))

    def as_call(self) -> Call:
        """The pushed call as the list endpoints' record (what tables and the inbox use)."""
        data = self.call or {}
        duration = data.get("duration_seconds")
        return Call(
            kind=self.kind,
            number=str(data.get("number", "")),
            name=str(data.get("name", "")),
            started_at=datetime.fromisoformat(data["call_at"]),
            duration=None if self.kind is CallKind.MISSED else duration,
            guid=str(data.get("guid") or ""),
        )
