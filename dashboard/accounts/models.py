from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.accounts.zones import known_time_zones, viewer_zone

__all__ = ["Profile", "known_time_zones", "user_time_zone"]


class Profile(models.Model):
    """Per-user preferences; created on first save of the preferences form."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # Blank: no choice made, times follow the browser's zone (dashboard/accounts/zones.py).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"Profile of {self.user}"


def user_time_zone(user) -> str:
    """The zone the user chose, else the site's TIME_ZONE (the browser's zone aside)."""
    return viewer_zone(user, None).name
