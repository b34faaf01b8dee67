from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from dashboard.ops import health

# Answered before host validation, HTTPS redirects and sessions: probes from a load
# balancer use pod IPs as Host and plain HTTP, and must not touch the session store.
HEALTH_PATHS = {"/healthz": health.healthz, "/readyz": health.readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = HEALTH_PATHS.get(request.path_info.rstrip("/"))
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
