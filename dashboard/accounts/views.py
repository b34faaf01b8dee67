from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from dashboard.accounts.forms import PreferencesForm
from dashboard.accounts.models import Profile, user_time_zone


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    profile, _created = Profile.objects.get_or_create(
        user=request.user, defaults={"time_zone": user_time_zone(request.user)}
    )
    form = PreferencesForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Preferences saved."))
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})
