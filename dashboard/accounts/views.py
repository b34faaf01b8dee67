from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.accounts.forms import PreferencesForm
from dashboard.accounts.models import Profile
from dashboard.accounts.zones import (
    BROWSER_ZONE_COOKIE,
    BROWSER_ZONE_COOKIE_AGE,
    read_time_zone,
    sorted_time_zones,
)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's preferences; also the target of the one-click zone switch, which sends
    `next` (the page it was pressed on) to return there."""
    profile = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = PreferencesForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        zone = form.cleaned_data["time_zone"]
        if zone:
            messages.success(request, _("Saved: times are shown in %(zone)s.") % {"zone": zone})
        else:
            messages.success(request, _("Saved: times follow this browser’s time zone."))
        return redirect(_safe_next(request) or "preferences")
    context = {"form": form, "zone_names": sorted_time_zones()}
    return render(request, "accounts/preferences.html", context)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed and target.startswith("/") else ""


@login_required
@require_POST
def browser_time_zone(request: HttpRequest) -> HttpResponse:
    """app.js reports the browser's zone (Intl API) here, once per browser and change; it is
    kept in a cookie and used while the user has chosen no zone of their own."""
    zone = read_time_zone(request.POST.get("time_zone"))
    if zone is None:
        return HttpResponseBadRequest(
            _("This is not a time zone name."), content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(status=204)
    response.set_cookie(
        BROWSER_ZONE_COOKIE,
        zone,
        max_age=BROWSER_ZONE_COOKIE_AGE,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,  # app.js reads the zone back from the page, never the cookie
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )
    return response
