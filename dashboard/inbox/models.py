"""The missed-call inbox: one episode per caller and stretch of trying to reach us.

An episode opens with a caller's first missed call and collects every further missed call
(an `Attempt`) until it is closed — by a person (called back, handled, ignored) or by
detection (we called them, or they called again and got through). A missed call after that
opens a new episode. At most one episode per caller and line is open (a database
constraint), which is what makes "one row per caller" and concurrent writers safe.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dashboard.lines.models import Line

NOTE_MAX_LENGTH = 200
NUMBER_MAX_LENGTH = 32
NAME_MAX_LENGTH = 120


class CallerStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CALLED_BACK = "called_back", _("Called back")
    REACHED = "reached", _("Reached")  # they called again and were answered
    HANDLED = "handled", _("Handled")
    IGNORED = "ignored", _("Ignored")


CLOSED_STATUSES = tuple(s for s in CallerStatus if s is not CallerStatus.OPEN)


class Episode(models.Model):
    """One caller's open (or closed) stretch of missed calls on one line."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="inbox_episodes")
    number = models.CharField(_("number"), max_length=NUMBER_MAX_LENGTH)  # calls.phone.number_key
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CallerStatus.choices, default=CallerStatus.OPEN
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(_("first attempt"))
    last_attempt_at = models.DateTimeField(_("last attempt"))
    # When the line's target time runs out for this episode (business hours counted);
    # null when the line has no target. Stored so "overdue" is a plain query.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_name = models.CharField(_("owner"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=NOTE_MAX_LENGTH, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The callback (or answered call) that closed it, or when a person marked it.
    callback_at = models.DateTimeField(_("callback"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text: the person may be deleted later. Empty with closed_at set: detected.
    closed_by_name = models.CharField(_("closed by"), max_length=150, blank=True)
    # Every change bumps it; a write names the version it saw, so none is lost.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line", "number"],
                condition=Q(status="open"),
                name="one_open_episode_per_caller",
            )
        ]
        indexes = [
            models.Index(fields=["line", "status", "first_attempt_at"], name="inbox_line_status"),
            models.Index(fields=["line", "number"], name="inbox_line_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.status} ×{self.attempts}"

    @property
    def is_open(self) -> bool:
        return self.status == CallerStatus.OPEN

    @property
    def detected(self) -> bool:
        """Closed by callback detection rather than by a person."""
        return self.closed_at is not None and not self.closed_by_name

    @property
    def time_to_callback(self) -> timedelta | None:
        if self.callback_at is None or self.status not in (
            CallerStatus.CALLED_BACK,
            CallerStatus.REACHED,
        ):
            return None
        return self.callback_at - self.first_attempt_at


class Attempt(models.Model):
    """One missed call, filed under its caller's episode."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="calls")
    number = models.CharField(max_length=NUMBER_MAX_LENGTH)
    called_at = models.DateTimeField()
    # The provider's id of the call when a webhook filed it (dashboard/calls/reconcile.py).
    guid = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line", "number", "called_at"], name="one_attempt_per_missed_call"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.called_at:%Y-%m-%d %H:%M:%S}"


class EpisodeAction(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Unassigned")
    MARKED = "marked", _("Marked")
    REOPENED = "reopened", _("Reopened")
    DETECTED = "detected", _("Callback detected")


class EpisodeEvent(models.Model):
    """One change of an episode: its history, never edited (also in the line's audit)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=EpisodeAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    status = models.CharField(max_length=16, choices=CallerStatus.choices, blank=True)
    owner_name = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"


class InboxSettings(models.Model):
    """A line's target time and business hours (see hours.py for the arithmetic)."""

    line = models.OneToOneField(Line, on_delete=models.CASCADE, related_name="inbox_settings")
    # Minutes of business hours within which a missed caller should be called back.
    target_minutes = models.PositiveIntegerField(_("target time (minutes)"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # {"0": [[540, 1020]], ...} Monday = "0"; a missing or empty day is closed. Null:
    # always open (no business hours set).
    weekly_hours = models.JSONField(null=True, blank=True)
    closed_days = models.JSONField(default=list, blank=True)  # ["2026-12-25", ...]
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Inbox settings of line {self.line_id}"
