from __future__ import annotations

import zoneinfo

from django.utils import timezone

from dashboard.accounts.zones import BROWSER_ZONE_COOKIE, viewer_zone


class UserTimezoneMiddleware:
    """Activate the viewer's time zone so templates and date maths use it: the user's
    choice, else the zone this browser reported (app.js), else the site's TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = viewer_zone(request.user, request.COOKIES.get(BROWSER_ZONE_COOKIE))
        request.viewer_zone = zone
        request.time_zone = zone.name
        timezone.activate(zoneinfo.ZoneInfo(zone.name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
