from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from dashboard.lines import crypto

HINT_LENGTH = 4


class KeyStatus(models.TextChoices):
    UNCHECKED = "", _("Not checked yet")
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Subscription expired")
    REJECTED = "rejected", _("Rejected")
    UNREACHABLE = "unreachable", _("Could not be checked")


def sees_lines(user: AbstractBaseUser | AnonymousUser) -> str:
    """Which lines a user may browse: "none", "all" (staff) or "shared" (see `shared_with`).
    The part of the rule that reads the user; with `shared_with`, the whole of it."""
    if not user.is_authenticated or not user.is_active:
        return "none"
    return "all" if user.is_staff else "shared"


class LineQuerySet(models.QuerySet["Line"]):
    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> LineQuerySet:
        """Lines the user may browse: owned, shared directly or through a group; staff see all."""
        sees = sees_lines(user)
        if sees == "none":
            return self.none()
        return self.all() if sees == "all" else self.shared_with(user.pk)

    def shared_with(self, user_id: int) -> LineQuerySet:
        """Lines the user `user_id` owns or that are shared with them, directly or through
        a group."""
        # One subquery of three plain SELECTs instead of Q objects joining through both
        # many-to-many tables: the ORM took about a millisecond to build that query, on
        # every page (the access check runs it). tests/test_line_access.py checks the rule
        # for every kind of user.
        # The SQL holds only quoted names from the models; the user id is a parameter.
        ids = RawSQL(_shared_line_ids_sql(), (user_id, user_id, user_id))  # noqa: S611
        return self.filter(pk__in=ids)


@functools.cache
def _shared_line_ids_sql() -> str:
    """The ids of the lines a user (the three parameters) owns, or that are shared with
    them directly or through a group; names read from the models, quoted for the database."""
    name = connection.ops.quote_name
    line = Line._meta
    users = Line.shared_with_users.through._meta
    groups = Line.shared_with_groups.through._meta
    members = get_user_model().groups.through._meta

    def column(meta, field: str) -> str:
        return name(meta.get_field(field).column)

    line_id, group_id = column(groups, "line"), column(groups, "group")
    # Only quoted names from the models go into the text; the values are parameters.
    sql = (
        f"SELECT {column(line, 'id')} FROM {name(line.db_table)}"  # noqa: S608
        f" WHERE {column(line, 'owner')} = %s"
        f" UNION SELECT {column(users, 'line')} FROM {name(users.db_table)}"
        f" WHERE {column(users, 'user')} = %s"
        f" UNION SELECT g.{line_id} FROM {name(groups.db_table)} g"
        f" JOIN {name(members.db_table)} m ON m.{column(members, 'group')} = g.{group_id}"
        f" WHERE m.{column(members, 'user')} = %s"
    )
    return sql


class Line(models.Model):
    """One SMSMobileAPI key, labelled ("Support phone"), owned by a user, shared with others."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_lines"
    )
    label = models.CharField(_("label"), max_length=80)
    # A Fernet token; the key in clear is never stored (see crypto.py).
    encrypted_api_key = models.TextField(editable=False)
    key_hint = models.CharField(max_length=HINT_LENGTH, editable=False)
    shared_with_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_lines"
    )
    shared_with_groups = models.ManyToManyField(Group, blank=True, related_name="shared_lines")
    default_region = models.CharField(
        _("default phone region"),
        max_length=2,
        blank=True,
        default="",
        help_text=_("Two-letter country code used to read national numbers, e.g. BE."),
    )
    key_status = models.CharField(
        max_length=16, choices=KeyStatus.choices, blank=True, default=KeyStatus.UNCHECKED
    )
    key_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LineQuerySet.as_manager()

    class Meta:
        ordering = ["label", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "label"], name="unique_label_per_owner")
        ]

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"<Line {self.pk} {self.label!r} key=…{self.key_hint}>"

    def set_api_key(self, api_key: str) -> None:
        self.encrypted_api_key = crypto.encrypt(api_key)
        self.key_hint = api_key[-HINT_LENGTH:]

    def get_api_key(self) -> str:
        """The key in clear, for the upstream client only. Raises KeyDecryptionError."""
        return crypto.decrypt(self.encrypted_api_key)

    @property
    def key_fingerprint(self) -> str:
        return crypto.fingerprint(self.get_api_key())

    def can_manage(self, user: AbstractBaseUser | AnonymousUser) -> bool:
        return (
            user.is_authenticated and user.is_active and (user.is_staff or self.owner_id == user.pk)
        )


class AuditAction(models.TextChoices):
    CREATED = "created", _("Added the line")
    RENAMED = "renamed", _("Renamed")
    SETTINGS_CHANGED = "settings_changed", _("Changed settings")
    KEY_REPLACED = "key_replaced", _("Replaced the API key")
    KEY_CHECKED = "key_checked", _("Checked the API key")
    SHARED_USER = "shared_user", _("Shared with a person")
    UNSHARED_USER = "unshared_user", _("Stopped sharing with a person")
    SHARED_GROUP = "shared_group", _("Shared with a group")
    UNSHARED_GROUP = "unshared_group", _("Stopped sharing with a group")
    DELETED = "deleted", _("Deleted the line")
    FOLLOWUP_MARKED = "followup_marked", _("Marked a missed call")
    FOLLOWUP_CLEARED = "followup_cleared", _("Cleared a missed-call mark")
    INBOX_CLAIMED = "inbox_claimed", _("Claimed a caller")
    INBOX_ASSIGNED = "inbox_assigned", _("Assigned a caller")
    INBOX_UNASSIGNED = "inbox_unassigned", _("Unassigned a caller")
    INBOX_MARKED = "inbox_marked", _("Marked a caller")
    INBOX_REOPENED = "inbox_reopened", _("Reopened a caller")
    INBOX_SETTINGS_CHANGED = "inbox_settings", _("Changed the target time or business hours")
    ALERT_RULE_SAVED = "alert_rule_saved", _("Saved an alert rule")
    ALERT_RULE_DELETED = "alert_rule_deleted", _("Deleted an alert rule")
    DESTINATION_SAVED = "destination_saved", _("Saved an alert destination")
    DESTINATION_DELETED = "destination_deleted", _("Deleted an alert destination")
    ALERT_SENT = "alert_sent", _("Sent an alert")
    ALERT_FAILED = "alert_failed", _("Could not send an alert")
    ALERT_UNKNOWN = "alert_unknown", _("Alert outcome unknown")
    ALERT_RESENT = "alert_resent", _("Sent an alert again")
    WEBHOOK_SECRET_SET = "webhook_secret_set", _("Set the webhook signing secret")
    WEBHOOK_NEXT_SECRET_SET = "webhook_next_secret_set", _("Set the next webhook signing secret")
    WEBHOOK_ROTATION_FINISHED = (
        "webhook_rotation_finished",
        _("Made the next webhook secret current"),
    )
    WEBHOOK_URL_ROTATED = "webhook_url_rotated", _("Gave the webhook a new URL")


class AuditEvent(models.Model):
    """Who did what to which line, and when. Never holds a key (only its hint).

    The line's id, label and owner are copied, so the trail outlives the line itself.
    """

    line = models.ForeignKey(
        Line, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    line_ref = models.PositiveBigIntegerField(_("line id"), db_index=True)
    line_label = models.CharField(_("line label"), max_length=80)
    line_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text: the actor may be deleted, or be the command line.
    actor_name = models.CharField(_("by"), max_length=150)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.line_label}"

    @property
    def summary(self) -> str:
        """The details as one readable line (plain text; templates escape it)."""
        d = self.details or {}
        status = d.get("key_status")
        check = (
            _("check: %(status)s") % {"status": KeyStatus(status).label}
            if status in KeyStatus.values
            else ""
        )
        parts: list[str] = []
        if self.action == AuditAction.RENAMED:
            parts.append(f"“{d.get('old_label', '')}” → “{d.get('new_label', '')}”")
        elif self.action == AuditAction.SETTINGS_CHANGED:
            region = d.get("default_region") or {}
            parts.append(
                _("region: %(old)s → %(new)s")
                % {"old": region.get("old") or "–", "new": region.get("new") or "–"}
            )
        elif self.action == AuditAction.KEY_REPLACED:
            parts.append(f"…{d.get('old_key_hint', '')} → …{d.get('key_hint', '')}")
        elif d.get("key_hint"):
            parts.append(f"…{d['key_hint']}")
        if d.get("user"):
            parts.append(str(d["user"]))
        if d.get("group"):
            parts.append(_("group %(name)s") % {"name": d["group"]})
        if check:
            parts.append(check)
        # Alerts: who received it (a destination's hint, never its URL) and why it failed.
        for name in ("recipient", "label", "error"):
            if d.get(name):
                parts.append(str(d[name]))
        return ", ".join(parts)


class AccessLogEntry(models.Model):
    """Someone opened a line's calls: support staff reading call history is personal data.

    At most one row per user, line and kind per `audit.ACCESS_LOG_INTERVAL`; rows older
    than ACCESS_LOG_RETENTION_DAYS are removed by `manage.py prune_access_log`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("user"), max_length=150)
    line = models.ForeignKey(
        Line, null=True, blank=True, on_delete=models.SET_NULL, related_name="access_log"
    )
    line_label = models.CharField(_("line label"), max_length=80)
    kind = models.CharField(_("what"), max_length=32)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = _("access log entries")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.line_label} {self.kind}"

    @property
    def kind_label(self) -> str:
        """What was opened, in words ("CSV export: Missed calls"), not the stored code."""
        code = self.kind.removeprefix("export:")
        label = ACCESS_KINDS.get(code)
        if label is None:  # a code of a later version, shown rather than hidden
            return self.kind
        if code != self.kind:
            return _("CSV export: %(what)s") % {"what": label}
        return str(label)


# The codes `audit.record_line_access` stores, each as the screen's name.
ACCESS_KINDS = {
    "missed": _("Missed calls"),
    "incoming": _("Incoming calls"),
    "outgoing": _("Outgoing calls"),
    "all": _("All calls"),
    "caller": _("One caller's calls"),
    "inbox": _("Missed-call inbox"),
    "overview": _("Overview"),
}
