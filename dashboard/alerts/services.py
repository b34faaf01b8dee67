"""What the alerts views do, each in one transaction with its audit entry."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from dashboard.alerts import delivery
from dashboard.alerts.models import Alert, AlertRule, Delivery, Destination
from dashboard.lines import audit
from dashboard.lines.models import AuditAction, Line

TEST_KIND = "test"


def save_rule(form, line: Line, actor) -> AlertRule:
    with transaction.atomic():
        rule = form.save(commit=False)
        rule.line = line
        if rule.created_by_id is None:
            rule.created_by = actor
        rule.save()
        form.save_m2m()
        audit.record(line, actor, AuditAction.ALERT_RULE_SAVED, label=rule.get_kind_display())
    return rule


def delete_rule(rule: AlertRule, actor) -> None:
    with transaction.atomic():
        audit.record(
            rule.line, actor, AuditAction.ALERT_RULE_DELETED, label=rule.get_kind_display()
        )
        rule.delete()


def add_destination(
    line: Line, actor, *, kind: str, label: str, target: str, language: str
) -> Destination:
    with transaction.atomic():
        destination = Destination(line=line, kind=kind, label=label, language=language)
        destination.set_target(target)
        destination.save()
        audit.record(
            line,
            actor,
            AuditAction.DESTINATION_SAVED,
            label=label,
            recipient=destination.target_hint,
        )
    return destination


def update_destination(
    destination: Destination, actor, *, label: str, language: str, target: str | None
) -> Destination:
    """Rename it, change its language, and replace its target when one is given (a new
    target starts with a clean record: no failures carried over)."""
    with transaction.atomic():
        destination.label = label
        destination.language = language
        if target:
            destination.set_target(target)
            destination.failures = 0
            destination.last_error = ""
        destination.save()
        audit.record(
            destination.line,
            actor,
            AuditAction.DESTINATION_SAVED,
            label=label,
            recipient=destination.target_hint,
        )
    return destination


def delete_destination(destination: Destination, actor) -> None:
    with transaction.atomic():
        audit.record(
            destination.line,
            actor,
            AuditAction.DESTINATION_DELETED,
            label=destination.label,
            recipient=destination.target_hint,
        )
        destination.delete()


def send_test(destination: Destination, actor) -> Delivery:
    """Queue a test message to `destination` (the worker sends it like any alert)."""
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.create(
            line=destination.line,
            rule=None,
            key=f"test:{destination.pk}:{uuid.uuid4().hex[:12]}",
            kind=TEST_KIND,
            facts={"by": actor.get_username()},
            created_at=now,
        )
        item = Delivery.objects.create(alert=alert, destination=destination, next_attempt_at=now)
        # In the same transaction: the job row exists exactly when the delivery does.
        delivery.enqueue(item)
    return item
