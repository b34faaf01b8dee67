from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dashboard.lines import crypto

HINT_LENGTH = 4


class KeyStatus(models.TextChoices):
    UNCHECKED = "", _("Not checked yet")
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Subscription expired")
    REJECTED = "rejected", _("Rejected")
    UNREACHABLE = "unreachable", _("Could not be checked")


class LineQuerySet(models.QuerySet["Line"]):
    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> LineQuerySet:
        """Lines the user may browse: owned, shared directly or through a group; staff see all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self.all()
        shared = Q(owner=user) | Q(shared_with_users=user) | Q(shared_with_groups__user=user)
        # A subquery instead of .distinct(): the joins can repeat a line.
        return self.filter(pk__in=Line.objects.filter(shared).values("pk"))


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
