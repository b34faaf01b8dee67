"""Prometheus metrics (prometheus-client), multiprocess-safe under gunicorn.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it), each worker writes its
samples to that folder and /metrics aggregates them; otherwise the process registry is used.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from dashboard.smsmobileapi.events import UpstreamCall

UPSTREAM_REQUESTS = Counter(
    "calls_dashboard_upstream_requests_total",
    "Requests to SMSMobileAPI, by endpoint kind and outcome (ok or an error code).",
    ["kind", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "calls_dashboard_upstream_request_seconds",
    "Time SMSMobileAPI took to answer, by endpoint kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 3, 5, 10, 20),
)
CACHE_RESULTS = Counter(
    "calls_dashboard_cache_results_total",
    "Call tables served, by where the rows came from: hit, miss, stale, or error.",
    ["result"],
)
SINGLE_FLIGHT_WAITS = Counter(
    "calls_dashboard_single_flight_waits_total",
    "Requests that waited for another request's identical upstream fetch.",
)
BACKOFF_ACTIVATIONS = Counter(
    "calls_dashboard_backoff_activations_total",
    "Times a line's upstream calls were paused after errors or a 429.",
)


def observe_upstream_call(event: UpstreamCall) -> None:
    UPSTREAM_REQUESTS.labels(kind=event.kind.value, outcome=event.outcome).inc()
    UPSTREAM_SECONDS.labels(kind=event.kind.value).observe(event.seconds)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; 404 unless METRICS_TOKEN is set, 401 without that bearer token."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are disabled.")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
