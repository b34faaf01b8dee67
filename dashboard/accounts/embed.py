"""Embedding in an intranet portal's iframe, only for the origins EMBED_ALLOWED_ORIGINS lists.

The settings do the real work: CSP `frame-ancestors` lists exactly those origins, and the
session and CSRF cookies become `SameSite=None; Secure` (a cross-site iframe would not
send them otherwise, and every login would loop). What is left is X-Frame-Options: it
cannot name origins (ALLOW-FROM is dead), and `DENY` would block the portal in any
browser that honours it over CSP. So when embedding is on, responses are exempted from
Django's XFrameOptionsMiddleware — which stays installed, with `DENY`, for the default.

And `SameSite=None` is not enough where the browser blocks third-party cookies (Safari,
private windows, Chrome set to block them): inside the frame, the login form's CSRF
cookie was never stored, and signing in failed with a 403. Cookies marked `Partitioned`
(CHIPS) are kept for the portal's site alone and sent back to the frame, so embedding
adds that attribute to our cookies (a session in the portal is then the portal's own:
signing in on the dashboard's own site does not sign the frame in).
"""

from __future__ import annotations

from http.cookies import CookieError, Morsel

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


class _PartitionedMorsel(Morsel):
    """A cookie with the `Partitioned` attribute, which http.cookies has only from 3.14."""

    def OutputString(self, attrs=None) -> str:  # http.cookies names it so
        return super().OutputString(attrs) + "; Partitioned"


def _partitioned(morsel: Morsel) -> Morsel:
    try:
        morsel["partitioned"] = True  # Python 3.14 and later
        return morsel
    except CookieError:
        copy = _PartitionedMorsel()
        copy.set(morsel.key, morsel.value, morsel.coded_value)
        copy.update(morsel)
        return copy


class PartitionedCookiesMiddleware:
    """When embedding is allowed, every cookie the response sets or deletes (the session,
    CSRF, language, messages and browser-zone ones: all ours) also carries `Partitioned`.
    List it before SessionMiddleware: its response comes after theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.EMBED_ALLOWED_ORIGINS:
            for name, morsel in list(response.cookies.items()):
                # dict's own setter: SimpleCookie's would make a plain Morsel again.
                dict.__setitem__(response.cookies, name, _partitioned(morsel))
        return response
