"""Shared builders for the alert tests: a rule with destinations, an alert on it."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from dashboard.alerts import rules
from dashboard.alerts.models import Alert, AlertRule, Destination, DestinationKind, RuleKind
from dashboard.lines.models import Line

CHAT_TOKEN = "T0k3nSecretXYZ"
CHAT_PASSWORD = "pw-Secret-987"


def chat_url(port: int) -> str:
    """An Apprise json:// URL to the local receiver, with a token in its path and a
    password, as real webhook URLs have."""
    return f"json://bot:{CHAT_PASSWORD}@127.0.0.1:{port}/hooks/{CHAT_TOKEN}"


def destination(line: Line, kind: str, target: str, *, label: str = "", language: str = "en"):
    dest = Destination(line=line, kind=kind, label=label or kind, language=language)
    dest.set_target(target)
    dest.save()
    return dest


def chat_destination(line: Line, port: int, **kwargs) -> Destination:
    return destination(line, DestinationKind.APPRISE, chat_url(port), label="Team chat", **kwargs)


def spike_rule(
    line: Line, *destinations: Destination, members: bool = False, **fields
) -> AlertRule:
    rule = AlertRule.objects.create(
        line=line,
        kind=RuleKind.SPIKE,
        missed_count=fields.pop("missed_count", 2),
        window_minutes=fields.pop("window_minutes", 10),
        notify_members=members,
        **fields,
    )
    rule.destinations.set(destinations)
    return rule


def spike_alert(rule: AlertRule, now: datetime | None = None, count: int = 5) -> Alert:
    now = now or timezone.now()
    finding = rules.Finding(
        key=f"spike:{now:%Y-%m-%dT%H:%M}",
        facts={"count": count, "minutes": rule.window_minutes, "latest": now.isoformat()},
    )
    alert = rules.create_alert(rule, finding, now)
    assert alert is not None
    return alert
