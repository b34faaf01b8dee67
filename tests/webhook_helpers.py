"""Signed Webhook V2 deliveries, as the provider sends them, for the tests."""

from __future__ import annotations

import json
import time
import uuid

from django.urls import reverse

from dashboard.webhooks import signing

SECRET = "whsec_test_0123456789abcdefSECRET"
NEXT_SECRET = "whsec_test_next_9876543210NEXTSECRET"


def envelope(event_type: str = "call.missed", event_id: str | None = None, **data) -> dict:
    call = {
        "guid": "CALL-GUID-2001",
        "number": "+15557654321",
        "name": "Morgan",
        "duration_seconds": 0,
        "device_id": "support-phone-1",
        "call_at": "2026-09-23 13:10:00",
    }
    call.update(data)
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "api_version": "2026-09-22",
        "created_at": "2026-09-23T13:10:02Z",
        "occurred_at": "2026-09-23T13:10:00Z",
        "data": call,
    }


def headers_for(
    body: bytes,
    event: dict | None,
    *,
    secret: str | None = SECRET,
    next_secret: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"X-SMSMobileAPI-Timestamp": str(ts), "X-SMSMobileAPI-Delivery": uuid.uuid4().hex}
    if event is not None:
        headers["X-SMSMobileAPI-Event"] = str(event.get("type"))
        headers["X-SMSMobileAPI-Event-ID"] = str(event.get("id"))
        headers["Idempotency-Key"] = str(event.get("id"))
    if secret is not None:
        headers["X-SMSMobileAPI-Signature"] = signing.sign(secret, ts, body)
    if next_secret is not None:
        headers["X-SMSMobileAPI-Signature-Next"] = signing.sign(next_secret, ts, body)
    return headers


def deliver(client, endpoint, event: dict | None = None, *, body: bytes | None = None, **sign):
    """POST one signed delivery to `endpoint`'s URL with the test client."""
    event = envelope() if event is None and body is None else event
    raw = body if body is not None else json.dumps(event).encode()
    url = reverse("webhook-receive", args=[endpoint.token])
    return client.post(
        url, data=raw, content_type="application/json", headers=headers_for(raw, event, **sign)
    )
