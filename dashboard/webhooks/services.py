"""Webhook operations for the views, the receiver and the commands alike.

Secrets arrive here in clear and leave encrypted; nothing in this module logs them, and
audit details never hold one (only that it was set).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dashboard.lines import audit, crypto
from dashboard.lines.models import AuditAction, Line
from dashboard.webhooks.envelope import CallEvent
from dashboard.webhooks.models import WebhookEndpoint, WebhookEvent, new_token

logger = logging.getLogger("dashboard.webhooks")


class Outcome:
    """What a delivery got, as stored in `last_outcome` and written to the log."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a non-call event (sms.received, …): acknowledged, not stored


def endpoint_for(line: Line) -> WebhookEndpoint:
    """The line's endpoint, created (with a new unguessable URL) on first use."""
    endpoint, _created = WebhookEndpoint.objects.get_or_create(line=line)
    return endpoint


@transaction.atomic
def set_secret(
    line: Line, secret: str, *, next_secret: bool = False, actor=None
) -> WebhookEndpoint:
    """Store `secret` (encrypted) as the line's current signing secret, or as the next one
    during a rotation."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_for(line).pk)
    now = timezone.now()
    if next_secret:
        endpoint.encrypted_next_secret = crypto.encrypt(secret)
        endpoint.next_secret_set_at = now
        action = AuditAction.WEBHOOK_NEXT_SECRET_SET
    else:
        endpoint.encrypted_secret = crypto.encrypt(secret)
        endpoint.secret_set_at = now
        action = AuditAction.WEBHOOK_SECRET_SET
    endpoint.save()
    audit.record(line, actor, action)
    _pages_go_live(line)
    return endpoint


@transaction.atomic
def finish_rotation(line: Line, *, actor=None) -> bool:
    """Make the next secret the current one (the provider stopped signing with the old
    one). False when there is no next secret."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_for(line).pk)
    if not endpoint.has_next_secret:
        return False
    endpoint.encrypted_secret = endpoint.encrypted_next_secret
    endpoint.secret_set_at = endpoint.next_secret_set_at or timezone.now()
    endpoint.encrypted_next_secret = ""
    endpoint.next_secret_set_at = None
    endpoint.save()
    audit.record(line, actor, AuditAction.WEBHOOK_ROTATION_FINISHED)
    _pages_go_live(line)
    return True


@transaction.atomic
def rotate_url(line: Line, *, actor=None) -> WebhookEndpoint:
    """Give the line a new webhook URL; the old one answers 404 from now on."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_for(line).pk)
    endpoint.token = new_token()
    endpoint.save(update_fields=["token"])
    audit.record(line, actor, AuditAction.WEBHOOK_URL_ROTATED)
    return endpoint


def _pages_go_live(line: Line) -> None:
    """Whole pages remember whether the line has a webhook (live/templatetags/live.py):
    forget it now, and again at commit (a page drawn meanwhile read the old secret)."""
    from dashboard.calls.cache import WEBHOOK_FACT, mark_line_changed

    mark_line_changed(line, WEBHOOK_FACT)
    transaction.on_commit(lambda: mark_line_changed(line, WEBHOOK_FACT))


def count_refusal(endpoint: WebhookEndpoint, reason: str) -> None:
    """One more refused delivery (bad signature, stale timestamp, malformed, too large)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        refused_count=F("refused_count") + 1,
        last_delivery_at=timezone.now(),
        last_outcome=reason,
    )


def store_event(endpoint: WebhookEndpoint, event: CallEvent) -> tuple[str, WebhookEvent | None]:
    """Store a verified event once; returns the outcome and the stored row (None for a
    duplicate or an ignored type). Committed before it returns: the caller answers 2xx
    only after this, so an acknowledged event is never lost."""
    now = timezone.now()
    if not event.is_call:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            last_delivery_at=now, last_outcome=Outcome.IGNORED
        )
        return Outcome.IGNORED, None
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                line_id=endpoint.line_id,
                event_id=event.event_id,
                type=event.type,
                occurred_at=event.occurred_at,
                call=event.call,
                effects_pending=True,
            )
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                accepted_count=F("accepted_count") + 1,
                last_delivery_at=now,
                last_outcome=Outcome.ACCEPTED,
            )
    except IntegrityError:
        # The unique (line, event id): a retry of an event already stored.
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            duplicate_count=F("duplicate_count") + 1,
            last_delivery_at=now,
            last_outcome=Outcome.DUPLICATE,
        )
        return Outcome.DUPLICATE, None
    return Outcome.ACCEPTED, stored


def retention_days() -> int:
    return settings.WEBHOOK_EVENT_RETENTION_DAYS


def prune_events(days: int | None = None, *, dry_run: bool = False) -> int:
    """Delete stored events older than `days` (default: the setting); returns how many."""
    cutoff = timezone.now() - timedelta(days=retention_days() if days is None else days)
    old = WebhookEvent.objects.filter(received_at__lt=cutoff)
    if dry_run:
        return old.count()
    deleted, _per_model = old.delete()
    return deleted
