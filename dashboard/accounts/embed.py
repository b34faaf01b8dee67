"""Embedding in an intranet portal's iframe, only for the origins EMBED_ALLOWED_ORIGINS lists.

The settings do the real work: CSP `frame-ancestors` lists exactly those origins, and the
session and CSRF cookies become `SameSite=None; Secure` (a cross-site iframe would not
send them otherwise, and every login would loop). What is left is X-Frame-Options: it
cannot name origins (ALLOW-FROM is dead), and `DENY` would block the portal in any
browser that honours it over CSP. So when embedding is on, responses are exempted from
Django's XFrameOptionsMiddleware — which stays installed, with `DENY`, for the default.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class EmbedMiddleware:
    """Drop X-Frame-Options when embedding is allowed. List it after XFrameOptionsMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.EMBED_ALLOWED_ORIGINS:
            response.xframe_options_exempt = True
        return response
