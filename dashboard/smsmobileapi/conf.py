"""The process-wide client, built lazily from Django settings."""

from __future__ import annotations

import threading

import httpx
from django.conf import settings

from dashboard.smsmobileapi.client import SmsMobileApiClient

DEMO_BASE_URL = "http://demo-upstream.invalid"

_lock = threading.Lock()
_client: SmsMobileApiClient | None = None


def uses_demo_upstream() -> bool:
    return settings.SMSMOBILEAPI_BASE_URL.strip().lower() in ("", "demo")


def build_client() -> SmsMobileApiClient:
    """A client for the configured upstream: the real provider or the in-process demo."""
    transport: httpx.BaseTransport | None = None
    base_url = settings.SMSMOBILEAPI_BASE_URL
    if uses_demo_upstream():
        from dashboard.smsmobileapi.demo import DemoUpstream

        app = DemoUpstream(
            latency=settings.DEMO_UPSTREAM_LATENCY, timezone=settings.SMSMOBILEAPI_TIMEZONE
        )
        transport = httpx.WSGITransport(app=app)
        base_url = DEMO_BASE_URL
    return SmsMobileApiClient(
        base_url,
        transport=transport,
        connect_timeout=settings.SMSMOBILEAPI_CONNECT_TIMEOUT,
        read_timeout=settings.SMSMOBILEAPI_READ_TIMEOUT,
        missed_timezone=settings.SMSMOBILEAPI_TIMEZONE,
    )


def get_client() -> SmsMobileApiClient:
    """The one pooled client of this process."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = build_client()
    return _client


def set_client(client: SmsMobileApiClient | None) -> SmsMobileApiClient | None:
    """Swap the process client (tests, benchmarks); returns the previous one."""
    global _client
    with _lock:
        previous, _client = _client, client
    return previous
