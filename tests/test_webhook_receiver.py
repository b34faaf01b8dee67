"""The receiver: every refusal, duplicates, rotation, stored before the 202, no session,
no CSRF, and nothing secret in logs or answers."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.webhooks import services
from dashboard.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.webhook_helpers import NEXT_SECRET, SECRET, deliver, envelope, headers_for


@pytest.fixture
def endpoint(line) -> WebhookEndpoint:
    services.set_secret(line, SECRET)
    return WebhookEndpoint.objects.get(line=line)


@pytest.fixture
def provider() -> Client:
    """The provider: no cookies, and CSRF checks enforced as for any browser."""
    return Client(enforce_csrf_checks=True)


def counts(endpoint) -> tuple[int, int, int]:
    endpoint.refresh_from_db()
    return endpoint.accepted_count, endpoint.duplicate_count, endpoint.refused_count


def test_a_signed_call_event_is_stored_and_answered_202(provider, endpoint):
    event = envelope(event_id="7b48758f-9f9c-4f95-a32e-494c871e3e4c")
    response = deliver(provider, endpoint, event)
    assert response.status_code == 202
    stored = WebhookEvent.objects.get()
    assert stored.line_id == endpoint.line_id
    assert str(stored.event_id) == "7b48758f-9f9c-4f95-a32e-494c871e3e4c"
    assert stored.type == "call.missed"
    assert stored.call["number"] == "+15557654321"
    assert stored.call["guid"] == "CALL-GUID-2001"
    assert stored.call["call_at"] == "2026-09-23T13:10:00+00:00"
    assert counts(endpoint) == (1, 0, 0)


def test_the_event_is_stored_before_the_answer_leaves(provider, endpoint, monkeypatch):
    # The follow-up work runs after the answer (close()); by then the row must exist,
    # its effects still to run.
    seen = []
    monkeypatch.setattr(
        "dashboard.webhooks.effects.drain",
        lambda line_id: seen.append(
            WebhookEvent.objects.filter(line_id=line_id, effects_pending=True).exists()
        ),
    )
    assert deliver(provider, endpoint).status_code == 202
    assert seen == [True]


def test_a_redelivered_event_answers_2xx_and_stores_nothing_new(provider, endpoint):
    event = envelope()
    assert deliver(provider, endpoint, event).status_code == 202
    again = deliver(provider, endpoint, event)  # a retry: same id, new delivery, new time
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    assert counts(endpoint) == (1, 1, 0)


def test_the_same_event_id_on_another_line_is_its_own_event(provider, endpoint, owner):
    from tests.conftest import make_line

    other = services.set_secret(make_line(owner, "demo-sales"), SECRET)
    event = envelope()
    assert deliver(provider, endpoint, event).status_code == 202
    assert deliver(provider, other, event).status_code == 202
    assert WebhookEvent.objects.count() == 2


@pytest.mark.parametrize("event_type", ["sms.received", "whatsapp.received", "email.received"])
def test_other_channels_events_are_acknowledged_and_ignored(provider, endpoint, event_type):
    response = deliver(provider, endpoint, envelope(event_type))
    assert response.status_code == 202
    assert response.json() == {"status": "ignored"}
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("event_type", ["call.incoming", "call.outgoing"])
def test_incoming_and_outgoing_calls_are_stored_too(provider, endpoint, event_type):
    event = envelope(event_type, duration_seconds=95, unknown_field={"x": 1})
    assert deliver(provider, endpoint, event).status_code == 202
    stored = WebhookEvent.objects.get()
    assert (stored.type, stored.call["duration_seconds"]) == (event_type, 95)


def test_an_unknown_url_is_a_404(provider, endpoint):
    raw = json.dumps(envelope()).encode()
    url = reverse("webhook-receive", args=["not-" + endpoint.token])
    response = provider.post(
        url, raw, content_type="application/json", headers=headers_for(raw, None)
    )
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_an_old_url_is_a_404_after_a_new_one_is_made(provider, endpoint, line):
    old = WebhookEndpoint.objects.get(pk=endpoint.pk)
    services.rotate_url(line)
    assert deliver(provider, old).status_code == 404
    assert deliver(provider, WebhookEndpoint.objects.get(pk=endpoint.pk)).status_code == 202


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_is_accepted(provider, endpoint, method):
    url = reverse("webhook-receive", args=[endpoint.token])
    response = getattr(provider, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_body_over_one_megabyte_is_a_413(provider, endpoint):
    big = envelope(name="x" * (1024 * 1024))
    response = deliver(provider, endpoint, big)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_body_of_exactly_one_megabyte_is_read(provider, endpoint):
    event = envelope()
    raw = json.dumps(event).encode()
    raw = raw[:-1] + b" " * (1024 * 1024 - len(raw)) + b"}"
    assert len(raw) == 1024 * 1024
    assert deliver(provider, endpoint, event, body=raw).status_code == 202


def test_a_bad_signature_is_a_401_and_stores_nothing(provider, endpoint):
    response = deliver(provider, endpoint, secret="whsec_someone_else_entirely")
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert counts(endpoint) == (0, 0, 1)
    endpoint.refresh_from_db()
    assert endpoint.last_outcome == "signature_mismatch"


def test_an_unsigned_delivery_is_a_401(provider, endpoint):
    assert deliver(provider, endpoint, secret=None).status_code == 401


def test_a_stale_timestamp_is_a_401_even_when_correctly_signed(provider, endpoint):
    response = deliver(provider, endpoint, timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert response.json()["reason"] == "timestamp_out_of_window"


def test_a_line_without_a_secret_refuses_deliveries(provider, line):
    endpoint = services.endpoint_for(line)
    assert deliver(provider, endpoint).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "call.missed"}',
        b'{"id": "nope", "type": "call.missed"}',
        b'{"id": "7b48758f-9f9c-4f95-a32e-494c871e3e4c", "type": "call.missed"}',
        b'{"id": "7b48758f-9f9c-4f95-a32e-494c871e3e4c", "type": "call.missed", "data": {"name": "x"}}',
        b"\xff\xfe",
    ],
)
def test_a_malformed_but_signed_envelope_is_a_400(provider, endpoint, body):
    response = deliver(provider, endpoint, None, body=body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert counts(endpoint) == (0, 0, 1)


def test_an_envelope_contradicting_its_headers_is_a_400(provider, endpoint):
    event = envelope()
    raw = json.dumps(event).encode()
    headers = headers_for(raw, {**event, "id": str(uuid.uuid4())})
    url = reverse("webhook-receive", args=[endpoint.token])
    assert (
        provider.post(url, raw, content_type="application/json", headers=headers).status_code == 400
    )


def test_during_a_rotation_either_secret_is_accepted(provider, endpoint, line):
    services.set_secret(line, NEXT_SECRET, next_secret=True)
    assert deliver(provider, endpoint, secret=SECRET).status_code == 202
    assert deliver(provider, endpoint, secret=None, next_secret=NEXT_SECRET).status_code == 202
    # The provider sends both headers during the overlap; the next one alone matches here.
    assert (
        deliver(
            provider, endpoint, secret="whsec_wrong_wrong_wrong", next_secret=NEXT_SECRET
        ).status_code
        == 202
    )
    assert services.finish_rotation(line)
    assert deliver(provider, endpoint, secret=SECRET).status_code == 401
    assert deliver(provider, endpoint, secret=NEXT_SECRET).status_code == 202


def test_deliveries_are_rate_limited_per_line(provider, endpoint, owner):
    from tests.conftest import make_line

    other = services.set_secret(make_line(owner, "demo-sales"), SECRET)
    with override_settings(WEBHOOK_RATE_LIMIT=2):
        assert deliver(provider, endpoint).status_code == 202
        assert deliver(provider, endpoint).status_code == 202
        refused = deliver(provider, endpoint)
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) >= 1
        assert deliver(provider, other).status_code == 202  # another line has its own budget
    assert WebhookEvent.objects.filter(line_id=endpoint.line_id).count() == 2


def test_a_delivery_opens_no_session_and_sets_no_cookie(provider, endpoint):
    from django.contrib.sessions.models import Session

    response = deliver(provider, endpoint)
    assert response.status_code == 202
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert not Session.objects.exists()


@override_settings(SSO_ENABLED=True, TRUSTED_PROXIES=["10.9.9.9/32"])
def test_sso_middleware_never_sees_a_delivery(provider, endpoint):
    # From an untrusted address an SSO header is a 403 on every other URL; the receiver is
    # answered before the SSO middleware, so a provider's stray header changes nothing.
    raw = json.dumps(envelope()).encode()
    headers = {**headers_for(raw, None), "X-Forwarded-User": "admin"}
    url = reverse("webhook-receive", args=[endpoint.token])
    response = provider.post(url, raw, content_type="application/json", headers=headers)
    assert response.status_code == 202
    assert provider.get(reverse("home"), headers={"X-Forwarded-User": "admin"}).status_code == 403


def test_a_logged_in_browser_cannot_use_the_receiver_to_skip_csrf(client, owner, endpoint):
    # Only this view is exempt; the line's settings form still needs the token.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(
        reverse("line-webhook", args=[endpoint.line_id]), {"action": "rotate_url"}
    )
    assert response.status_code == 403


def test_the_host_header_is_still_checked(provider, endpoint):
    raw = json.dumps(envelope()).encode()
    url = reverse("webhook-receive", args=[endpoint.token])
    response = provider.post(
        url,
        raw,
        content_type="application/json",
        headers=headers_for(raw, None),
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 400


def test_logs_hold_neither_the_secret_the_token_nor_the_body(provider, endpoint, line, caplog):
    caplog.set_level(logging.DEBUG)
    services.set_secret(line, NEXT_SECRET, next_secret=True)
    event = envelope(name="Secret-Caller-Name-XYZ", number="+15550009999")
    deliver(provider, endpoint, event)
    deliver(provider, endpoint, event)
    deliver(provider, endpoint, event, secret="whsec_wrong_wrong_wrong")
    deliver(provider, endpoint, None, body=b'{"garbage-body-marker": 1}')
    text = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [repr(getattr(r, "fields", "")) for r in caplog.records]
    )
    assert "webhook for line" in text  # the log does say what happened
    for needle in (
        SECRET,
        NEXT_SECRET,
        endpoint.token,
        "Secret-Caller-Name-XYZ",
        "+15550009999",
        "garbage-body-marker",
    ):
        assert needle not in text
    for secret in (SECRET, NEXT_SECRET):
        assert not WebhookEndpoint.objects.filter(encrypted_secret__contains=secret).exists()
        assert not WebhookEndpoint.objects.filter(encrypted_next_secret__contains=secret).exists()


def test_an_unreadable_secret_answers_503_so_the_provider_retries(provider, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(encrypted_secret="gAAAAA-not-a-token")
    response = deliver(provider, endpoint)
    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()


def test_the_default_sqlite_database_runs_in_write_ahead_mode(db):
    # A burst of deliveries (each a short write) must not wait for readers, nor readers
    # for it: bench/live.py measured 5xx "database is locked" without it.
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
        else:
            assert connection.vendor == "postgresql"


def test_a_cache_outage_lets_deliveries_through_with_one_throttled_warning(
    provider, endpoint, caplog
):
    """The rate limit counts in the shared cache; while it is down, deliveries are not
    refused and the log gets one warning a minute (SafeCache), not one per delivery."""
    from tests.servers import refused_port

    with refused_port() as port:
        broken = {
            "default": {
                "BACKEND": "dashboard.ops.redis_cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
            }
        }
        with override_settings(CACHES=broken), caplog.at_level(logging.WARNING):
            answers = [deliver(provider, endpoint).status_code for _ in range(3)]
    assert answers == [202, 202, 202]
    assert WebhookEvent.objects.filter(line_id=endpoint.line_id).count() == 3
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].name == "dashboard.ops.safe_cache"
    assert SECRET not in caplog.text
