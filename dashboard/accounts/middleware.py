from __future__ import annotations

import zoneinfo

from django.utils import timezone

from dashboard.accounts.models import user_time_zone


class UserTimezoneMiddleware:
    """Activate the user's time zone so templates and date maths use it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = user_time_zone(request.user)
        request.time_zone = name
        timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
