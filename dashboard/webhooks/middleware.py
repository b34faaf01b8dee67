"""Deliveries are answered here, before sessions, CSRF, authentication and SSO.

The provider's POST carries no cookie, no CSRF token and no user; nothing of the
browser's stack applies to it, and none of it may open a session or write a cookie.
Placed after the proxy-headers and security middlewares (sub-path, HTTPS redirect) and
the request log (one line per delivery, with the route, never the token in the path).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

PREFIX = "/webhooks/"
RECEIVER = "webhook-receive"


class WebhookMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match.url_name != RECEIVER:
            return self.get_response(request)
        request.get_host()  # the Host header is checked as for every other request
        request.resolver_match = match  # the request log names the route, not the token
        return match.func(request, *match.args, **match.kwargs)
