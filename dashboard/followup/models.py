"""Follow-up marks on missed calls, and their history.

The provider has no call id, so a missed call is identified by its line, its normalised
number (`calls.phone.number_key`) and its time. Marks live here, not in the cache: they
survive cache expiry and provider outages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.lines.models import Line

NOTE_MAX_LENGTH = 200
NUMBER_MAX_LENGTH = 32


class FollowUpStatus(models.TextChoices):
    CALLED_BACK = "called_back", _("Called back")
    HANDLED = "handled", _("Handled")
    IGNORED = "ignored", _("Ignored")


class FollowUpMark(models.Model):
    """The current mark of one missed call; no row means the call is open."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="followup_marks")
    number = models.CharField(_("number"), max_length=NUMBER_MAX_LENGTH)
    called_at = models.DateTimeField(_("call time"))
    status = models.CharField(_("status"), max_length=16, choices=FollowUpStatus.choices)
    note = models.CharField(_("note"), max_length=NOTE_MAX_LENGTH, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text: the person may be deleted later, the mark stays readable.
    marked_by_name = models.CharField(_("by"), max_length=150)
    marked_at = models.DateTimeField(_("when"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line", "number", "called_at"], name="one_mark_per_missed_call"
            )
        ]
        indexes = [models.Index(fields=["line", "called_at"], name="followup_line_time")]

    def __str__(self) -> str:
        return f"{self.number} {self.called_at:%Y-%m-%d %H:%M:%S} {self.status}"


class FollowUpEvent(models.Model):
    """One change of a mark (set, changed or cleared): the history, never edited."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="followup_events")
    number = models.CharField(_("number"), max_length=NUMBER_MAX_LENGTH)
    called_at = models.DateTimeField(_("call time"))
    # "" records that the mark was cleared (the call is open again).
    status = models.CharField(
        _("status"), max_length=16, choices=FollowUpStatus.choices, blank=True
    )
    note = models.CharField(_("note"), max_length=NOTE_MAX_LENGTH, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150)
    created_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["line", "number", "called_at"], name="followup_event_call")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.status or 'cleared'}"
