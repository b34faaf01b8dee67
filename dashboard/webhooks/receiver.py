"""The provider's Webhook V2 deliveries: verified first, stored, then acknowledged.

Answered by `WebhookMiddleware` before the session, CSRF, authentication and SSO
middlewares run: a delivery carries no cookie and no user, and must not open a session.
Order (each step before the next touches anything): POST only (405), size (413), the
line's URL (404), the line's rate (429), timestamp and signature over the raw body (401),
the envelope (400), the store (202; a duplicate 200; a non-call event 202, not stored).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from dashboard.lines.crypto import KeyDecryptionError
from dashboard.webhooks import effects, envelope, ratelimit, services, signing
from dashboard.webhooks.models import WebhookEndpoint

logger = logging.getLogger("dashboard.webhooks")

# The provider's own receivers refuse more (contract, "Delivery").
MAX_BODY_BYTES = 1024 * 1024

HEADER_EVENT = "X-SMSMobileAPI-Event"
HEADER_EVENT_ID = "X-SMSMobileAPI-Event-ID"
HEADER_TIMESTAMP = "X-SMSMobileAPI-Timestamp"
HEADER_SIGNATURE = "X-SMSMobileAPI-Signature"
HEADER_SIGNATURE_NEXT = "X-SMSMobileAPI-Signature-Next"


_RECEIVER_FIELDS = ("line_id", "encrypted_secret", "encrypted_next_secret")


class _AfterAnswer(JsonResponse):
    """An answer whose follow-up work runs once the server has sent it (WSGI servers and
    Django's handlers call close() then), so the provider never waits for it."""

    def __init__(self, data: dict, *, status: int, after=None) -> None:
        super().__init__(data, status=status)
        self._after = after

    def close(self) -> None:
        # The work first: Django's request_finished (fired by super().close()) then
        # closes the database connections it opened, as after any request.
        after, self._after = self._after, None
        try:
            if after is not None:
                after()
        finally:
            super().close()


def _refuse(status: int, reason: str, **headers: str) -> HttpResponse:
    response = JsonResponse({"status": "refused", "reason": reason}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _content_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    if not raw:
        return 0
    return int(raw) if raw.isascii() and raw.isdigit() else None


@csrf_exempt
@sensitive_variables("secrets", "body")
def receive(request: HttpRequest, token: str) -> HttpResponse:
    """One delivery to the line whose webhook URL ends in `token`."""
    if request.method != "POST":
        response = _refuse(405, "method_not_allowed")
        response["Allow"] = "POST"
        return response
    length = _content_length(request)
    if length is None:
        return _refuse(400, "bad_content_length")
    if length > MAX_BODY_BYTES:
        return _refuse(413, "too_large")
    # Only what verifying and storing need, and no ordering (a unique token): the line
    # itself is read after the answer, by the effects' drain.
    endpoint = next(iter(WebhookEndpoint.objects.filter(token=token).only(*_RECEIVER_FIELDS)), None)
    if endpoint is None:
        # The token is never logged: it is the URL's only secret part.
        logger.info("webhook delivery to an unknown URL refused")
        return _refuse(404, "unknown_url")
    line_id = endpoint.line_id
    allowed, retry_in = ratelimit.allow(line_id)
    if not allowed:
        logger.warning("webhook for line %s refused: rate limit", line_id)
        return _refuse(429, "rate_limited", **{"Retry-After": str(max(1, retry_in))})
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:  # no Content-Length, or a false one
        return _refused(endpoint, 413, "too_large")
    try:
        secrets = endpoint.signing_secrets()
    except KeyDecryptionError:
        logger.error(
            "webhook for line %s: its signing secret cannot be decrypted with "
            "FIELD_ENCRYPTION_KEYS; answering 503 so the provider retries",
            line_id,
        )
        return _refuse(503, "secret_unreadable", **{"Retry-After": "60"})
    try:
        signing.verify(
            secrets=secrets,
            timestamp=request.headers.get(HEADER_TIMESTAMP),
            signatures=[
                request.headers.get(HEADER_SIGNATURE),
                request.headers.get(HEADER_SIGNATURE_NEXT),
            ],
            body=body,
            now=time.time(),
        )
    except signing.SignatureError as exc:
        return _refused(endpoint, 401, exc.code)
    try:
        event = envelope.parse(
            body,
            header_type=request.headers.get(HEADER_EVENT),
            header_id=request.headers.get(HEADER_EVENT_ID),
            zone=settings.SMSMOBILEAPI_TIMEZONE,
        )
    except envelope.EnvelopeError as exc:
        return _refused(endpoint, 400, "malformed", detail=str(exc))
    outcome, stored = services.store_event(endpoint, event)
    logger.info("webhook for line %s: %s %s %s", line_id, event.type, event.event_id, outcome)
    if outcome == services.Outcome.DUPLICATE:
        return JsonResponse({"status": outcome}, status=200)
    # Stored with its effects pending: they run after the answer, batched per line.
    after = (lambda: _drain(endpoint.line_id)) if stored else None
    return _AfterAnswer({"status": outcome}, status=202, after=after)


def _drain(line_id: int) -> None:
    try:
        effects.drain(line_id)
    except Exception:  # the database away: the events stay pending, nothing is lost
        logger.exception(
            "webhook effects for line %s failed; the worker's sweep runs them later", line_id
        )


def _refused(endpoint: WebhookEndpoint, status: int, reason: str, detail: str = "") -> HttpResponse:
    services.count_refusal(endpoint, reason)
    # The reason's code (and the envelope problem's own words), never the body or a secret.
    logger.warning(
        "webhook for line %s refused (%s): %s%s",
        endpoint.line_id,
        status,
        reason,
        f" ({detail})" if detail else "",
    )
    return _refuse(status, reason)
