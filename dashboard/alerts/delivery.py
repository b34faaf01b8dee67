"""Sending one delivery, at most once, never silently dropped.

Each delivery's state lives in the database and changes in short transactions around
the send, never during it:

    pending/retrying ──(lock row, attempts+1, lease)──▶ sending ──send──▶ sent
                                                          │        └─fail─▶ retrying (back-off) / failed
                                                          └─(lease expired, no outcome)─▶ unknown

* **At most once.** The row is `sending` (committed) before the first byte leaves. A
  job that finds it `sending` while the lease runs leaves it alone (another attempt is
  on it); past the lease, the worker that sent it is presumed dead and the delivery
  becomes `unknown`: the message may or may not have arrived, and it is **not** sent
  again by itself. A duplicate job, a retried job or a restarted worker cannot resend.
* **Never silently dropped.** Every delivery ends `sent`, `failed` (after
  ALERTS_MAX_ATTEMPTS, with the last error) or `unknown`, each shown on the line's alerts
  page and written to the audit trail; a job lost before it started (worker killed while
  the delivery was still `pending`) is enqueued again by the minute's sweep.

The trade-off: a worker killed during a send costs that message's certainty, never a
duplicate. The owner sees "Outcome unknown" and can send it again by hand.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dashboard.alerts import channels
from dashboard.alerts.models import ERROR_MAX_LENGTH, Delivery, DeliveryState, Destination
from dashboard.lines import audit
from dashboard.lines.models import AuditAction

logger = logging.getLogger("dashboard.alerts")
WORKER_ACTOR = "(alerts)"
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.RETRYING)


def lease_seconds() -> float:
    """How long one send may run: connect + read timeouts, with room to spare."""
    return 3 * float(settings.ALERTS_SEND_TIMEOUT)


def retry_delay(attempts: int) -> timedelta:
    """The pause after the `attempts`-th failure: ALERTS_RETRY_SECONDS, doubling."""
    return timedelta(seconds=float(settings.ALERTS_RETRY_SECONDS) * 2 ** max(0, attempts - 1))


def enqueue(delivery: Delivery, *, now: datetime | None = None) -> None:
    """Queue a job for `delivery` at its next attempt time (duplicates are harmless)."""
    from dashboard.alerts.tasks import deliver

    now = now or timezone.now()
    run_at = max(now, delivery.next_attempt_at)
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=run_at)
    job = deliver.using(run_after=run_at) if run_at > now else deliver
    job.enqueue(delivery.pk)


def attempt(delivery_id: int, *, now: datetime | None = None) -> str:
    """Try to send one delivery once; returns the state it was left in (or why not)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("alert__rule", "alert__line", "destination", "user")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.state == DeliveryState.SENDING:
            if delivery.lease_until and delivery.lease_until > now:
                return "busy"  # another attempt is sending it right now
            _mark_unknown(delivery)
            return DeliveryState.UNKNOWN
        if delivery.state not in OPEN_STATES:
            return delivery.state  # sent, failed or unknown: never again by itself
        if delivery.next_attempt_at > now:
            return "not yet"
        delivery.state = DeliveryState.SENDING
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(seconds=lease_seconds())
        delivery.save(update_fields=["state", "attempts", "lease_until", "updated_at"])
    this_attempt = delivery.attempts

    # The send itself, outside any transaction: nothing is locked while a service answers.
    try:
        message = channels.send(delivery)
    except channels.SendError as exc:
        return _record_failure(delivery, this_attempt, str(exc), started=now)
    return _record_success(delivery, this_attempt, message)


def _record_success(delivery: Delivery, this_attempt: int, message: channels.Message) -> str:
    now = timezone.now()
    with transaction.atomic():
        # Also from `unknown`: the sweep may have given up on a slow send that did finish.
        updated = Delivery.objects.filter(
            pk=delivery.pk,
            attempts=this_attempt,
            state__in=[DeliveryState.SENDING, DeliveryState.UNKNOWN],
        ).update(
            state=DeliveryState.SENT,
            sent_at=now,
            lease_until=None,
            last_error="",
            subject=message.subject[:200],
            body=message.body,
            updated_at=now,
        )
        if delivery.destination_id:
            Destination.objects.filter(pk=delivery.destination_id).update(
                failures=0, last_sent_at=now
            )
        if updated:
            _audit(delivery, AuditAction.ALERT_SENT)
    logger.info("alert delivery %s sent (attempt %s)", delivery.pk, this_attempt)
    return DeliveryState.SENT


def _record_failure(delivery: Delivery, this_attempt: int, error: str, started: datetime) -> str:
    now = max(timezone.now(), started)
    error = error[:ERROR_MAX_LENGTH]
    final = this_attempt >= int(settings.ALERTS_MAX_ATTEMPTS)
    state = DeliveryState.FAILED if final else DeliveryState.RETRYING
    # Counted from the attempt's start: a slow failure does not push the retry further.
    next_at = now if final else started + retry_delay(this_attempt)
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, attempts=this_attempt, state=DeliveryState.SENDING
        ).update(
            state=state, next_attempt_at=next_at, lease_until=None, last_error=error, updated_at=now
        )
        if delivery.destination_id:
            Destination.objects.filter(pk=delivery.destination_id).update(
                failures=F("failures") + 1, last_error=error, last_error_at=now
            )
        if updated and final:
            _audit(delivery, AuditAction.ALERT_FAILED, error=error)
    # Only the delivery's id and the token-free error: never the target.
    logger.warning(
        "alert delivery %s failed (attempt %s of %s): %s",
        delivery.pk,
        this_attempt,
        settings.ALERTS_MAX_ATTEMPTS,
        error,
    )
    if updated and not final:
        delivery.next_attempt_at = next_at
        enqueue(delivery, now=now)
    return state


def _mark_unknown(delivery: Delivery) -> None:
    delivery.state = DeliveryState.UNKNOWN
    delivery.lease_until = None
    delivery.last_error = "The worker stopped while sending; the message may not have arrived."
    delivery.save(update_fields=["state", "lease_until", "last_error", "updated_at"])
    _audit(delivery, AuditAction.ALERT_UNKNOWN)
    logger.warning("alert delivery %s: outcome unknown (worker stopped mid-send)", delivery.pk)


def _audit(delivery: Delivery, action: AuditAction, **details) -> None:
    alert = delivery.alert
    audit.record(
        alert.line,
        None,
        action,
        actor_name=WORKER_ACTOR,
        rule=alert.kind,
        alert=alert.key,
        recipient=delivery.recipient_label,
        attempts=delivery.attempts,
        **details,
    )


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The minute's housekeeping: sends whose worker died become `unknown`; due
    deliveries whose job was lost are queued again."""
    now = now or timezone.now()
    expired = Delivery.objects.filter(state=DeliveryState.SENDING, lease_until__lt=now)
    unknown = 0
    for delivery_id in expired.values_list("pk", flat=True):
        if attempt(delivery_id, now=now) == DeliveryState.UNKNOWN:
            unknown += 1
    # A job is expected to run at `enqueued_at`; well past it, it was lost.
    stale = now - timedelta(seconds=5 * float(settings.ALERTS_EVALUATE_SECONDS))
    lost = Delivery.objects.filter(state__in=OPEN_STATES, next_attempt_at__lte=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    )
    requeued = 0
    for delivery in lost:
        enqueue(delivery, now=now)
        requeued += 1
    return {"unknown": unknown, "requeued": requeued}


def send_again(delivery: Delivery, actor) -> Delivery:
    """The owner's "send again" for a failed or unknown delivery: a new attempt budget."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state not in (DeliveryState.FAILED, DeliveryState.UNKNOWN):
            return locked
        locked.state = DeliveryState.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
        audit.record(
            locked.alert.line,
            actor,
            AuditAction.ALERT_RESENT,
            rule=locked.alert.kind,
            alert=locked.alert.key,
            recipient=locked.recipient_label,
        )
        enqueue(locked)  # the job row commits with the state change
    return locked
