"""Alert rules per line, where alerts go, and every delivery's state.

An `Alert` is one thing worth telling (a spike in one window, one day's digest, one
caller waiting too long in one episode); its `key` is the idempotency key, unique per
rule, so evaluating the same minute twice (two workers, a retried job) never makes a
second alert. Each alert has one `Delivery` per recipient (a destination, or a team
member's e-mail), whose state is recorded in the database before and after every send:
see `delivery.py` for the at-most-once rule.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.lines import crypto
from dashboard.lines.models import Line

# After this many failed attempts in a row a destination shows as failing.
FAILING_AFTER = 3
ERROR_MAX_LENGTH = 300


class SchedulerClock(models.Model):
    """One row per periodic job: the row every worker locks to decide who runs it."""

    name = models.CharField(primary_key=True, max_length=32)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_worker = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.name} next {self.next_run_at}"


class RuleKind(models.TextChoices):
    WAITING = "waiting", _("Caller waiting too long")
    SPIKE = "spike", _("Spike of missed calls")
    DIGEST = "digest", _("Daily digest")


class WaitingUntil(models.TextChoices):
    """When a caller stops counting as waiting, for a waiting-too-long rule."""

    CLAIMED = "claimed", _("until someone claims it")
    # A caller someone claimed and then left open still counts.
    CLOSED = "closed", _("until it is closed")


class DestinationKind(models.TextChoices):
    EMAIL = "email", _("E-mail address")
    APPRISE = "apprise", _("Chat or push (Apprise URL)")


class Destination(models.Model):
    """Where a line's alerts can go: an e-mail address or an Apprise URL.

    The target is stored encrypted (it often holds a token: a Slack webhook path, an ntfy
    topic); only `target_hint` is ever shown or logged.
    """

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="alert_destinations")
    kind = models.CharField(_("kind"), max_length=16, choices=DestinationKind.choices)
    label = models.CharField(_("name"), max_length=80)
    encrypted_target = models.TextField(editable=False)
    target_hint = models.CharField(max_length=80, editable=False)
    language = models.CharField(
        _("language of the messages"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=ERROR_MAX_LENGTH, blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "pk"]

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"<Destination {self.pk} {self.kind} {self.target_hint}>"

    def set_target(self, target: str) -> None:
        self.encrypted_target = crypto.encrypt(target)
        self.target_hint = target_hint(self.kind, target)

    def get_target(self) -> str:
        """The address or URL in clear, for sending only. Raises KeyDecryptionError."""
        return crypto.decrypt(self.encrypted_target)

    @property
    def is_failing(self) -> bool:
        return self.failures >= FAILING_AFTER


def target_hint(kind: str, target: str) -> str:
    """What may be shown of a target: an e-mail address as is (people must know who gets
    the mail), a URL as its scheme and last four characters (the rest may be a token)."""
    if kind == DestinationKind.EMAIL:
        return target[:80]
    scheme = target.split("://", 1)[0] if "://" in target else ""
    return f"{scheme}://…{target[-4:]}"[:80]


class AlertRule(models.Model):
    """One rule of one line; which fields matter depends on `kind`."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    enabled = models.BooleanField(_("on"), default=True)
    # spike: more than `missed_count` missed calls within `window_minutes`.
    missed_count = models.PositiveIntegerField(_("missed calls"), null=True, blank=True)
    window_minutes = models.PositiveIntegerField(_("within minutes"), null=True, blank=True)
    # waiting: still waiting after `wait_minutes` of business hours; again every
    # `repeat_minutes` while it stays so (never again if empty). Waiting means open and
    # unclaimed, or with `waiting_until` "closed", open whether claimed or not.
    wait_minutes = models.PositiveIntegerField(_("waiting minutes"), null=True, blank=True)
    repeat_minutes = models.PositiveIntegerField(_("repeat every minutes"), null=True, blank=True)
    # The default keeps rules made before the choice existed as they were.
    waiting_until = models.CharField(
        _("a caller waits"),
        max_length=16,
        choices=WaitingUntil.choices,
        default=WaitingUntil.CLAIMED,
    )
    # digest: every day at this local time (skipped on closed days).
    digest_time = models.TimeField(_("at"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    # No message leaves between these local times; what falls in them waits for the end.
    quiet_start = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet until"), null=True, blank=True)
    # E-mail every person who can see the line (and has an address, and has not opted out).
    notify_members = models.BooleanField(_("e-mail the line's team"), default=True)
    destinations = models.ManyToManyField(Destination, blank=True, related_name="rules")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.line_id}"


class Alert(models.Model):
    """One notification-worthy event; `key` makes it unique per rule (idempotency)."""

    # Empty for a destination's "send a test".
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(max_length=120)
    # A RuleKind, or "test".
    kind = models.CharField(max_length=16)
    # What the message says, as data (counts, a number, times): rendered per recipient
    # in their language when sent. Never a key or a destination URL.
    facts = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["line", "rule", "key"], name="one_alert_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Failed, will retry")
    FAILED = "failed", _("Failed")
    # The worker died between starting the send and recording its outcome: the message
    # may or may not have arrived, and is not sent again on its own (at most once).
    UNKNOWN = "unknown", _("Outcome unknown")


class Delivery(models.Model):
    """One alert to one recipient: a destination, or one team member's e-mail."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    destination = models.ForeignKey(
        Destination, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # When it may be tried (later than created for quiet hours and back-off).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While SENDING: until when the attempt may still be running. Past it, the worker is
    # presumed dead and the outcome unknown.
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=ERROR_MAX_LENGTH, blank=True, default="")
    # The message as sent (subject and text), for the line's outbox page.
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "destination"],
                condition=Q(destination__isnull=False),
                name="one_delivery_per_destination",
            ),
            models.UniqueConstraint(
                fields=["alert", "user"],
                condition=Q(user__isnull=False),
                name="one_delivery_per_member",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} {self.state}"

    @property
    def recipient_label(self) -> str:
        if self.destination_id:
            return f"{self.destination.label} ({self.destination.target_hint})"
        return self.user.get_username() if self.user_id else "?"


class MemberPreference(models.Model):
    """A team member's choice for one line's alert e-mails: receive them or not, and in
    which language."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="+")
    receives = models.BooleanField(_("send me this line's alerts"), default=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "line"], name="one_preference_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.line_id}: {self.receives}"
