from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session expired must reload the whole page on the login form.

    Without this, htmx follows the 302 and swaps the login page into the table.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code == 302:
            login_path = resolve_url(settings.LOGIN_URL)
            location = response.get("Location", "")
            if location.split("?", 1)[0].endswith(login_path):
                return HttpResponseClientRedirect(location)
        return response
