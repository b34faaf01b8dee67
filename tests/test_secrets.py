"""The API key never reaches a log record, a page or an exception, whatever happens upstream."""

from __future__ import annotations

import logging

import httpx
import pytest
from django.urls import reverse

from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient
from dashboard.smsmobileapi.logs import redact
from tests.conftest import make_line

EVERY_LOGGER = ("", "httpx", "httpcore", "django", "dashboard", "django.request", "django.server")
ERROR_KEYS = [
    "demo-invalid",
    "demo-expired",
    "demo-failing",
    "demo-ratelimited",
    "demo-broken",
    "demo-truncated",
    "demo-drift",
    "demo-hostile",
]


@pytest.fixture
def all_logs(caplog):
    """Every record of every logger at DEBUG, including the chatty transport loggers."""
    for name in EVERY_LOGGER:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def rendered(record: logging.LogRecord) -> str:
    return " ".join(
        [record.getMessage(), str(record.args), repr(getattr(record, "exc_info", None))]
        + [str(v) for v in record.__dict__.values()]
    )


@pytest.mark.parametrize("key", ["demo-s3cr3t-key", *ERROR_KEYS])
@pytest.mark.parametrize("kind", ["missed", "incoming", "outgoing"])
def test_no_log_record_or_page_holds_the_key(client, owner, all_logs, key, kind):
    line = make_line(owner, key, "Line under test")
    client.force_login(owner)
    target = reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind})
    pages = [
        client.get(target + "?q=%2B32&sort=duration"),
        client.get(target + "?page=2", HTTP_HX_REQUEST="true"),
        client.get(target + "?refresh=1", HTTP_HX_REQUEST="true"),
    ]
    assert all_logs.records, "the capture must see the request cycle's records"
    for record in all_logs.records:
        assert key not in rendered(record), record.getMessage()
    for page in pages:
        assert page.status_code == 200
        assert key not in page.content.decode()
        assert all(key not in value for value in page.headers.values())


def test_httpx_request_lines_are_redacted_not_just_silenced(client, owner, all_logs):
    line = make_line(owner, "demo-s3cr3t-key")
    client.force_login(owner)
    client.get(reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"}))
    httpx_lines = [r.getMessage() for r in all_logs.records if r.name == "httpx"]
    assert any("apikey=[redacted]" in m for m in httpx_lines), httpx_lines


def test_transport_failures_log_and_raise_without_the_key(client, owner, all_logs):
    def refuse(request):
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    line = make_line(owner, "demo-s3cr3t-key")
    previous = conf.set_client(
        SmsMobileApiClient("http://upstream", transport=httpx.MockTransport(refuse))
    )
    try:
        client.force_login(owner)
        html = client.get(reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}))
    finally:
        conf.set_client(previous)
    assert b"cannot be reached" in html.content
    for record in all_logs.records:
        assert "demo-s3cr3t-key" not in rendered(record)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET http://x/call/missed/list/?apikey=abc123&limit=5", "apikey=[redacted]&limit=5"),
        ("GET http://x/?limit=5&APIKEY=abc123", "APIKEY=[redacted]"),
        ('{"success": true, "apikey": "abc123"}', '"apikey": "[redacted]"'),
    ],
)
def test_redact_removes_keys_from_urls_and_json(text, expected):
    assert expected in redact(text) and "abc123" not in redact(text)


def test_a_debug_error_page_does_not_show_the_key(client, owner, settings, monkeypatch):
    """An unexpected bug below the upstream call, with DEBUG on: Django's technical 500
    page lists every frame's local variables; the ones holding the key are masked."""
    settings.DEBUG = True
    # Built, not written: the debug page also quotes this test's own source lines.
    key = "-".join(["demo", "s3cr3t", "key"])
    line = make_line(owner, key)

    def explode(self, path, params):
        raise RuntimeError("unexpected bug while talking to the provider")

    monkeypatch.setattr(SmsMobileApiClient, "_send", explode)
    client.force_login(owner)
    client.raise_request_exception = False
    response = client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "incoming"}),
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 500
    html = response.content.decode()
    assert "unexpected bug" in html  # it really is the technical page, with frames
    assert key not in html
