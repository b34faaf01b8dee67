"""Evaluating the rules: which alerts exist now, each created once (its key), each with
one delivery per recipient. Runs in the worker only (tasks.evaluate_alerts).

Calls are read through `calls.service.fetch_calls`, the tables' own cached path: an
evaluation a minute asks the provider no more than a person looking at the line would.
"""

from __future__ import annotations

import logging
import statistics
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from dashboard.alerts import delivery
from dashboard.alerts.models import (
    Alert,
    AlertRule,
    Delivery,
    DeliveryState,
    MemberPreference,
    RuleKind,
    WaitingUntil,
)
from dashboard.calls.filters import CallFilter
from dashboard.calls.service import fetch_calls
from dashboard.inbox.hours import add_business_minutes, business_minutes_between
from dashboard.inbox.models import CallerStatus, Episode
from dashboard.inbox.sync import sync_if_due
from dashboard.inbox.targets import business_schedule
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import Call, CallKind

logger = logging.getLogger("dashboard.alerts")
# The most missed calls one spike rule reads each minute (newest first, one page).
SPIKE_PAGE = 100
# The most calls of one kind a digest reads for its day.
DIGEST_MAX_PAGES = 10
# The most open episodes one waiting rule looks at per minute (the longest waiting first).
WAITING_MAX_EPISODES = 200


def zone_of(rule: AlertRule) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(rule.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def quiet_until(rule: AlertRule, now: datetime) -> datetime | None:
    """The end of the rule's quiet hours if `now` falls in them (local times; a period
    such as 22:00–07:00 crosses midnight), else None."""
    start, end = rule.quiet_start, rule.quiet_end
    if start is None or end is None or start == end:
        return None
    zone = zone_of(rule)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone)


@dataclass(frozen=True)
class Finding:
    """An alert a rule wants now: its idempotency key and what it says."""

    key: str
    facts: dict


def recipients(rule: AlertRule) -> tuple[list[int], list[int]]:
    """(destination ids, user ids) an alert of `rule` goes to: its destinations, and if
    asked, every person who can see the line, has an address and has not opted out."""
    destinations = list(rule.destinations.values_list("pk", flat=True))
    users: list[int] = []
    if rule.notify_members:
        line = rule.line
        people = get_user_model().objects.filter(is_active=True).exclude(email="")
        opted_out = MemberPreference.objects.filter(line=line, receives=False).values("user")
        candidates = people.exclude(pk__in=opted_out)
        users = [u.pk for u in candidates if Line.objects.visible_to(u).filter(pk=line.pk).exists()]
    return destinations, users


def create_alert(rule: AlertRule, finding: Finding, now: datetime) -> Alert | None:
    """The alert for `finding` with its deliveries, or None if its key already exists."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                line=rule.line,
                key=finding.key,
                kind=rule.kind,
                facts=finding.facts,
                created_at=now,
            )
            destination_ids, user_ids = recipients(rule)
            send_at = quiet_until(rule, now) or now
            made = [
                Delivery(alert=alert, destination_id=d, next_attempt_at=send_at)
                for d in destination_ids
            ]
            made += [Delivery(alert=alert, user_id=u, next_attempt_at=send_at) for u in user_ids]
            Delivery.objects.bulk_create(made)
    except IntegrityError:  # the same key, made by an evaluation that ran at the same time
        return None
    for item in alert.deliveries.filter(state=DeliveryState.PENDING):
        delivery.enqueue(item, now=now)
    logger.info(
        "alert %s (%s) on line %s: %d deliveries", alert.pk, rule.kind, rule.line_id, len(made)
    )
    return alert


# SPIKE --------------------------------------------------------------------------------


def find_spike(rule: AlertRule, now: datetime, missed: list[Call]) -> Finding | None:
    """More than K missed calls within the last M minutes, and no spike alert of this rule
    within the last M minutes (once per window)."""
    k, minutes = rule.missed_count or 0, rule.window_minutes or 0
    if minutes <= 0:
        return None
    since = now - timedelta(minutes=minutes)
    recent = [c for c in missed if since < c.started_at <= now]
    if len(recent) <= k:
        return None
    if Alert.objects.filter(rule=rule, created_at__gt=since).exists():
        return None
    return Finding(
        key=f"spike:{now:%Y-%m-%dT%H:%M}",
        facts={
            "count": len(recent),
            "minutes": minutes,
            "latest": max(c.started_at for c in recent).isoformat(),
        },
    )


def read_recent_missed(rule: AlertRule) -> list[Call] | None:
    """The newest missed calls of the rule's line (one page), or None if the provider failed."""
    page = fetch_calls(rule.line, CallKind.MISSED, CallFilter(per_page=SPIKE_PAGE), rule.time_zone)
    if page.error is not None and not page.calls:
        logger.warning(
            "spike rule %s: provider unavailable (%s)", rule.pk, type(page.error).__name__
        )
        return None
    return list(page.calls)


def evaluate_spike(rule: AlertRule, now: datetime) -> Alert | None:
    missed = read_recent_missed(rule)
    if missed is None:
        return None
    finding = find_spike(rule, now, missed)
    return create_alert(rule, finding, now) if finding else None


# DIGEST -------------------------------------------------------------------------------


def digest_due(rule: AlertRule, now: datetime) -> date | None:
    """The local day whose digest is due now (at or after the rule's time, the same
    local day, not a closed day), else None."""
    if rule.digest_time is None:
        return None
    local = now.astimezone(zone_of(rule))
    if local.time().replace(tzinfo=None) < rule.digest_time:
        return None
    today = local.date()
    if is_closed_day(rule.line, today):
        return None
    return today


def is_closed_day(line: Line, day: date) -> bool:
    """A day the line's business hours (the inbox's) have no opening: a closed day of
    the list, or a weekday without hours. Lines without business hours are never closed."""
    schedule = business_schedule(line)
    return day in schedule.closed_days or (
        schedule.weekly is not None and not schedule.intervals_on(day)
    )


def read_day(rule: AlertRule, kind: CallKind, day: date) -> tuple[list[Call], bool]:
    """Every call of `kind` on local `day` (capped), and whether anything was missing."""
    calls: list[Call] = []
    for page_number in range(1, DIGEST_MAX_PAGES + 1):
        call_filter = CallFilter(date_from=day, date_to=day, page=page_number, per_page=100)
        page = fetch_calls(rule.line, kind, call_filter, rule.time_zone)
        calls.extend(page.calls)
        if page.error is not None:
            return calls, True
        if not page.has_next:
            return calls, False
    return calls, True


def digest_facts(rule: AlertRule, today: date) -> dict:
    """Yesterday's figures for the digest sent on `today`."""
    day = today - timedelta(days=1)
    missed, missed_incomplete = read_day(rule, CallKind.MISSED, day)
    answered, answered_incomplete = read_day(rule, CallKind.INCOMING, day)
    zone = zone_of(rule)
    day_start = datetime.combine(day, time(), tzinfo=zone)
    day_end = datetime.combine(today, time(), tzinfo=zone)
    episodes = Episode.objects.filter(line=rule.line)
    # Callers whose episode began by the end of that day and is still open.
    open_callers = episodes.filter(status=CallerStatus.OPEN, first_attempt_at__lt=day_end)
    called_back = episodes.filter(
        status__in=[CallerStatus.CALLED_BACK, CallerStatus.REACHED],
        callback_at__gte=day_start,
        callback_at__lt=day_end,
    ).values_list("first_attempt_at", "callback_at")
    waits = sorted((back - first).total_seconds() / 60 for first, back in called_back)
    return {
        "day": day.isoformat(),
        "missed": len(missed),
        "answered": len(answered),
        "open_callers": open_callers.count(),
        "median_callback_minutes": statistics.median(waits) if waits else None,
        "incomplete": missed_incomplete or answered_incomplete,
    }


def evaluate_digest(rule: AlertRule, now: datetime) -> Alert | None:
    today = digest_due(rule, now)
    if today is None:
        return None
    key = f"digest:{today.isoformat()}"
    if Alert.objects.filter(rule=rule, key=key).exists():
        return None
    return create_alert(rule, Finding(key=key, facts=digest_facts(rule, today)), now)


# WAITING TOO LONG ---------------------------------------------------------------------


def waiting_slot(rule: AlertRule, waited_minutes: float) -> int | None:
    """Which alert of an episode is due after `waited_minutes` of business hours: 0 for
    the first (at N), 1, 2… for each further M, None before N (or no repeat, after 0)."""
    n = rule.wait_minutes
    if n is None or waited_minutes < n:
        return None
    if not rule.repeat_minutes:
        return 0
    return int((waited_minutes - n) // rule.repeat_minutes)


def waiting_episodes(rule: AlertRule, now: datetime):
    """The line's callers who count as waiting for `rule`: open and unclaimed, or (until
    closed) open whether someone claimed them or not."""
    episodes = Episode.objects.filter(
        line=rule.line, status=CallerStatus.OPEN, first_attempt_at__lte=now
    )
    if rule.waiting_until != WaitingUntil.CLOSED:
        episodes = episodes.filter(owner__isnull=True)
    return episodes


def find_waiting(rule: AlertRule, now: datetime) -> list[Finding]:
    """Callers still waiting (see `waiting_episodes`) N business-hours minutes or more: one
    finding per episode (again every M business-hours minutes, if set). The key names the
    episode and the slot only, whichever way the rule counts: changing that choice never
    sends an alert of the same episode and slot twice."""
    schedule = business_schedule(rule.line)
    findings = []
    # Business minutes never outrun the clock's: a caller younger than N is not due yet.
    episodes = waiting_episodes(rule, now).filter(
        first_attempt_at__lte=now - timedelta(minutes=rule.wait_minutes or 0)
    )
    if not rule.repeat_minutes:
        # Announced once and never again: out of the way, or the oldest callers left open
        # would fill the page below for good and a new caller would never be announced.
        alerted = Alert.objects.filter(
            rule=rule,
            key=Concat(Value("waiting:"), Cast(OuterRef("pk"), CharField()), Value(":0")),
        )
        episodes = episodes.exclude(Exists(alerted))
    for episode in episodes.order_by("first_attempt_at")[:WAITING_MAX_EPISODES]:
        waited = business_minutes_between(schedule, episode.first_attempt_at, now)
        slot = waiting_slot(rule, waited)
        if slot is None:
            continue
        # Callers already past this point when the rule was made are not announced one by
        # one (the inbox and the digest show them); a worker back from an outage still
        # catches up on everything that fell due since.
        due = add_business_minutes(
            schedule,
            episode.first_attempt_at,
            rule.wait_minutes + slot * (rule.repeat_minutes or 0),
        )
        if due is not None and due < rule.created_at:
            continue
        findings.append(
            Finding(
                key=f"waiting:{episode.pk}:{slot}",
                facts={
                    "episode": episode.pk,
                    "number": episode.number,
                    "name": episode.name,
                    "attempts": episode.attempts,
                    "since": episode.first_attempt_at.isoformat(),
                    "waiting_minutes": int(waited),
                    # Who claimed it (only an "until closed" rule alerts on a claimed caller).
                    "owner": episode.owner_name if episode.owner_id else "",
                    # The mail says the wait counts business hours only when it does.
                    "business_hours": schedule.weekly is not None or bool(schedule.closed_days),
                },
            )
        )
    return findings


def evaluate_waiting(rule: AlertRule, now: datetime) -> list[Alert]:
    # Lines without a webhook learn of new calls only by reading them: bring the inbox up
    # to date first (throttled to once per CALLS_CACHE_TTL per line, through the cache).
    sync_if_due(rule.line)
    made = []
    for finding in find_waiting(rule, now):
        if Alert.objects.filter(rule=rule, key=finding.key).exists():
            continue
        alert = create_alert(rule, finding, now)
        if alert is not None:
            made.append(alert)
    return made


EVALUATORS: dict[str, Callable[[AlertRule, datetime], object]] = {
    RuleKind.SPIKE: evaluate_spike,
    RuleKind.DIGEST: evaluate_digest,
    RuleKind.WAITING: evaluate_waiting,
}


def evaluate_all(*, now: datetime | None = None) -> int:
    """Evaluate every enabled rule once; the number of alerts created. One rule failing
    (its provider down, a bug) never stops the others."""
    now = now or timezone.now()
    created = 0
    for rule in AlertRule.objects.filter(enabled=True).select_related("line"):
        evaluator = EVALUATORS.get(rule.kind)
        if evaluator is None:
            continue
        try:
            result = evaluator(rule, now)
        except Exception:
            logger.exception("alert rule %s (%s) could not be evaluated", rule.pk, rule.kind)
            continue
        if isinstance(result, list):
            created += len(result)
        elif result is not None:
            created += 1
    return created
