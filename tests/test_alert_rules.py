"""When each rule fires, on a frozen clock: spikes once per window, the digest at its
local time and never on a closed day, a caller waiting N minutes of business hours once
per episode (again every M), and quiet hours holding deliveries back until they end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.alerts import delivery, messages, rules
from dashboard.alerts.models import Alert, AlertRule, DeliveryState, RuleKind
from dashboard.inbox.models import CallerStatus, Episode, InboxSettings
from dashboard.smsmobileapi.records import Call, CallKind
from tests.alerting import chat_destination, spike_rule
from tests.conftest import DEMO_NOW

TOKYO = ZoneInfo("Asia/Tokyo")
BRUSSELS = ZoneInfo("Europe/Brussels")


def missed(at: datetime) -> Call:
    return Call(kind=CallKind.MISSED, number="+32470000001", name="", started_at=at)


# Rules made before every fixed date these tests use, so none depends on today's date
# (a rule ignores callers already waiting when it was made).
MADE = datetime(2026, 11, 1, tzinfo=UTC)


def rule(line, kind, **fields) -> AlertRule:
    fields.setdefault("notify_members", False)
    made = AlertRule.objects.create(line=line, kind=kind, **fields)
    AlertRule.objects.filter(pk=made.pk).update(created_at=MADE)
    made.refresh_from_db()
    return made


# Quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected_end"),
    [
        (datetime(2026, 12, 4, 23, 30), datetime(2026, 12, 5, 7, 0)),  # after the start
        (datetime(2026, 12, 5, 6, 59), datetime(2026, 12, 5, 7, 0)),  # before the end
        (datetime(2026, 12, 5, 7, 0), None),  # the end itself is not quiet
        (datetime(2026, 12, 4, 21, 59), None),
    ],
)
def test_quiet_hours_across_midnight_in_the_rules_zone(line, local, expected_end):
    r = rule(line, RuleKind.SPIKE, time_zone="Asia/Tokyo", quiet_start=time(22), quiet_end=time(7))
    end = rules.quiet_until(r, local.replace(tzinfo=TOKYO))
    assert end == (expected_end.replace(tzinfo=TOKYO) if expected_end else None)


def test_an_alert_in_quiet_hours_is_delivered_when_they_end(line):
    chat = chat_destination(line, 9)
    r = spike_rule(
        line, chat, time_zone="Europe/Brussels", quiet_start=time(12), quiet_end=time(14)
    )
    now = datetime(2026, 12, 4, 12, 30, tzinfo=BRUSSELS)
    alert = rules.create_alert(r, rules.Finding("spike:x", {"count": 3, "minutes": 10}), now)
    item = alert.deliveries.get()
    assert item.next_attempt_at == datetime(2026, 12, 4, 14, 0, tzinfo=BRUSSELS)
    assert delivery.attempt(item.pk, now=now + timedelta(minutes=30)) == "not yet"
    assert item.state == DeliveryState.PENDING


# Spike ------------------------------------------------------------------------------


def test_a_spike_is_more_than_k_missed_calls_within_m_minutes_once_per_window(line):
    r = spike_rule(line, missed_count=2, window_minutes=10, members=True)
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    two = [missed(now - timedelta(minutes=1)), missed(now - timedelta(minutes=9))]
    old = [missed(now - timedelta(minutes=11))]
    assert rules.find_spike(r, now, two + old) is None  # 2 is not more than 2
    three = [*two, missed(now - timedelta(minutes=5))]
    finding = rules.find_spike(r, now, three + old)
    assert finding is not None and finding.facts["count"] == 3
    rules.create_alert(r, finding, now)
    # Still spiking one minute later: the same window, no second alert.
    later = now + timedelta(minutes=1)
    assert rules.find_spike(r, later, [*three, missed(later)]) is None
    # Ten minutes on, a new window with its own calls: alerted again.
    after = now + timedelta(minutes=10, seconds=1)
    fresh = [missed(after - timedelta(minutes=m)) for m in (1, 2, 3)]
    assert rules.find_spike(r, after, fresh) is not None


def test_spike_evaluation_reads_through_the_cache_and_does_not_hammer_the_provider(
    line, demo_upstream
):
    r = spike_rule(line, missed_count=0, window_minutes=7 * 24 * 60, members=False)
    first = rules.evaluate_spike(r, DEMO_NOW)
    assert first is not None and first.facts["count"] >= 1
    asked = len(demo_upstream.requests)
    assert asked >= 1
    # The next minute's evaluation (and a person's page view) come from the cache.
    assert rules.evaluate_spike(r, DEMO_NOW + timedelta(minutes=1)) is None
    assert len(demo_upstream.requests) == asked


# Daily digest -----------------------------------------------------------------------


def test_the_digest_is_due_at_its_local_time_once_a_day(line):
    r = rule(line, RuleKind.DIGEST, digest_time=time(8, 30), time_zone="Asia/Tokyo")
    before = datetime(2026, 11, 20, 8, 29, tzinfo=TOKYO)
    at = datetime(2026, 11, 20, 8, 30, tzinfo=TOKYO)
    assert rules.digest_due(r, before) is None
    assert rules.digest_due(r, at) == at.date()
    # 23:30 UTC on the 19th is already the 20th in Tokyo.
    assert rules.digest_due(r, datetime(2026, 11, 19, 23, 30, tzinfo=UTC)) == at.date()


def test_the_digest_tells_yesterdays_figures_once(line):
    r = rule(line, RuleKind.DIGEST, digest_time=time(8), time_zone="UTC")
    chat_destination(line, 9)
    now = DEMO_NOW  # 2026-11-20 15:30 UTC: the digest of the 19th
    Episode.objects.create(
        line=line,
        number="+32470000009",
        status=CallerStatus.OPEN,
        attempts=2,
        first_attempt_at=datetime(2026, 11, 19, 10, tzinfo=UTC),
        last_attempt_at=datetime(2026, 11, 19, 11, tzinfo=UTC),
    )
    Episode.objects.create(
        line=line,
        number="+32470000008",
        status=CallerStatus.CALLED_BACK,
        attempts=1,
        first_attempt_at=datetime(2026, 11, 19, 10, tzinfo=UTC),
        last_attempt_at=datetime(2026, 11, 19, 10, tzinfo=UTC),
        callback_at=datetime(2026, 11, 19, 10, 40, tzinfo=UTC),
    )
    alert = rules.evaluate_digest(r, now)
    assert alert is not None and alert.key == "digest:2026-11-20"
    facts = alert.facts
    assert facts["day"] == "2026-11-19" and facts["missed"] > 0 and facts["answered"] > 0
    assert facts["open_callers"] == 1 and facts["median_callback_minutes"] == 40
    text = messages.render(alert, "en").body
    assert f"{facts['missed']} missed calls" in text and "Median time to callback: 40 min" in text
    rate = 100 * facts["missed"] / (facts["missed"] + facts["answered"])
    assert f"Missed-call rate: {rate:.1f}%" in text
    assert rules.evaluate_digest(r, now + timedelta(hours=1)) is None  # once that day


def test_the_digest_states_the_missed_call_rate_in_the_recipients_language(line):
    r = rule(line, RuleKind.DIGEST, digest_time=time(8), time_zone="UTC")
    alert = Alert.objects.create(
        rule=r,
        line=line,
        key="digest:2026-11-20",
        kind=RuleKind.DIGEST,
        facts={"day": "2026-11-19", "missed": 3, "answered": 9, "open_callers": 1},
    )
    assert "Missed-call rate: 25.0%" in messages.render(alert, "en").body
    assert "不在率: 25.0%" in messages.render(alert, "ja").body


def test_no_digest_on_a_closed_day_or_a_weekday_without_hours(line):
    r = rule(line, RuleKind.DIGEST, digest_time=time(8), time_zone="Europe/Brussels")
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=BRUSSELS)
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=BRUSSELS)
    assert rules.digest_due(r, saturday) is not None  # no business hours: never closed
    weekdays = {str(d): [[540, 1020]] for d in range(5)}
    InboxSettings.objects.create(
        line=line, time_zone="Europe/Brussels", weekly_hours=weekdays, closed_days=["2026-12-04"]
    )
    assert rules.digest_due(r, saturday) is None  # no hours on Saturdays
    assert rules.digest_due(r, friday) is None  # a holiday
    assert rules.digest_due(r, datetime(2026, 12, 7, 9, 0, tzinfo=BRUSSELS)) is not None


# Waiting too long -------------------------------------------------------------------


@pytest.fixture
def office_hours(line, monkeypatch):
    # The episodes are this test's own: no sync from the (demo) provider.
    monkeypatch.setattr(rules, "sync_if_due", lambda line: None)
    # Monday to Friday, 09:00-17:00 Brussels.
    return InboxSettings.objects.create(
        line=line,
        time_zone="Europe/Brussels",
        weekly_hours={str(d): [[540, 1020]] for d in range(5)},
    )


def open_episode(line, first: datetime, **fields) -> Episode:
    return Episode.objects.create(
        line=line,
        number=fields.pop("number", "+32470123456"),
        name="Zoë",
        status=CallerStatus.OPEN,
        attempts=2,
        first_attempt_at=first,
        last_attempt_at=first,
        **fields,
    )


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BRUSSELS)  # 4 Dec 2026 is a Friday


def test_callers_announced_once_never_crowd_out_a_new_one(line, office_hours, monkeypatch):
    monkeypatch.setattr(rules, "WAITING_MAX_EPISODES", 2)
    r = rule(line, RuleKind.WAITING, wait_minutes=30, waiting_until="closed")
    old = [open_episode(line, local(1, 10), number=f"+3247011111{i}") for i in range(2)]
    assert {a.facts["episode"] for a in rules.evaluate_waiting(r, local(1, 12))} == {
        e.pk for e in old
    }
    Episode.objects.filter(pk__in=[e.pk for e in old]).update(owner=line.owner)  # claimed, open
    new = open_episode(line, local(2, 10), number="+32470222222")
    alerts = rules.evaluate_waiting(r, local(2, 12))
    assert [a.facts["episode"] for a in alerts] == [new.pk]


def test_waiting_counts_business_minutes_only_and_fires_once_per_episode(line, office_hours):
    r = rule(line, RuleKind.WAITING, wait_minutes=30, notify_members=True)
    episode = open_episode(line, local(4, 16, 50))  # Friday, ten minutes before closing
    assert rules.evaluate_waiting(r, local(4, 17, 30)) == []  # 10 business minutes
    assert rules.evaluate_waiting(r, local(7, 9, 19)) == []  # Monday: 29
    alerts = rules.evaluate_waiting(r, local(7, 9, 20))  # 30
    assert [a.key for a in alerts] == [f"waiting:{episode.pk}:0"]
    assert alerts[0].facts["waiting_minutes"] == 30
    assert rules.evaluate_waiting(r, local(7, 12, 0)) == []  # no repeat asked: once
    body = messages.render(alerts[0], "en")
    assert "Zoë (+32 470 12 34 56) has waited 30 minutes for a callback" in body.subject


def test_waiting_repeats_every_m_business_minutes_while_open_and_unclaimed(line, office_hours):
    r = rule(line, RuleKind.WAITING, wait_minutes=30, repeat_minutes=60)
    episode = open_episode(line, local(7, 9, 0))
    keys = []
    for hour, minute in [(9, 30), (9, 45), (10, 29), (10, 30), (11, 30)]:
        keys += [a.key for a in rules.evaluate_waiting(r, local(7, hour, minute))]
    assert keys == [f"waiting:{episode.pk}:{n}" for n in (0, 1, 2)]


def test_callers_already_overdue_when_the_rule_is_made_are_not_announced(line, office_hours):
    open_episode(line, local(7, 9, 0))
    r = rule(line, RuleKind.WAITING, wait_minutes=30)
    AlertRule.objects.filter(pk=r.pk).update(created_at=local(7, 10, 0))
    r.refresh_from_db()
    assert rules.evaluate_waiting(r, local(7, 10, 1)) == []  # was due at 9:30, before the rule
    later = open_episode(line, local(7, 9, 45), number="+32470999999")
    assert [a.key for a in rules.evaluate_waiting(r, local(7, 10, 15))] == [f"waiting:{later.pk}:0"]


def test_how_long_reads_as_a_person_says_it():
    assert [messages.waited_text(m) for m in (1, 45, 119, 180, 2879, 2880)] == [
        "1 minute",
        "45 minutes",
        "119 minutes",
        "3 hours",
        "47 hours",
        "2 days",
    ]


def test_a_claimed_or_closed_caller_is_not_alerted(line, office_hours, owner):
    r = rule(line, RuleKind.WAITING, wait_minutes=30)
    open_episode(line, local(7, 9, 0), number="+32470000001", owner=owner, owner_name="olivia")
    Episode.objects.create(
        line=line,
        number="+32470000002",
        status=CallerStatus.HANDLED,
        attempts=1,
        first_attempt_at=local(7, 9, 0),
        last_attempt_at=local(7, 9, 0),
    )
    assert rules.evaluate_waiting(r, local(7, 12, 0)) == []


def test_until_closed_a_claimed_but_open_caller_alerts_and_names_its_owner(
    line, office_hours, owner
):
    until_claimed = rule(line, RuleKind.WAITING, wait_minutes=30)
    until_closed = rule(line, RuleKind.WAITING, wait_minutes=30, waiting_until="closed")
    assert until_claimed.waiting_until == "claimed"  # the default: rules made before the choice
    claimed = open_episode(
        line, local(7, 9, 0), number="+32470000001", owner=owner, owner_name="olivia"
    )
    Episode.objects.create(
        line=line,
        number="+32470000002",
        status=CallerStatus.HANDLED,
        attempts=1,
        first_attempt_at=local(7, 9, 0),
        last_attempt_at=local(7, 9, 0),
        closed_at=local(7, 9, 5),
    )
    now = local(7, 12, 0)
    assert rules.evaluate_waiting(until_claimed, now) == []
    (alert,) = rules.evaluate_waiting(until_closed, now)
    assert alert.key == f"waiting:{claimed.pk}:0"  # the same key scheme as until claimed
    english = messages.render(alert, "en")
    assert "+32 470 00 00 01" in english.subject
    assert "Claimed by olivia, not closed yet." in english.body
    assert (
        "olivia さんが担当していますが、まだ完了していません。" in messages.render(alert, "ja").body
    )
    assert rules.evaluate_waiting(until_closed, local(7, 14, 0)) == []  # once per episode
    # Closed at last: it never alerts again, not even with a repeat asked.
    Episode.objects.filter(pk=claimed.pk).update(status=CallerStatus.CALLED_BACK)
    AlertRule.objects.filter(pk=until_closed.pk).update(repeat_minutes=30)
    until_closed.refresh_from_db()
    assert rules.evaluate_waiting(until_closed, local(7, 16, 0)) == []


def test_an_unclaimed_caller_alerts_either_way_and_without_an_owner(line, office_hours):
    r = rule(line, RuleKind.WAITING, wait_minutes=30, waiting_until="closed")
    episode = open_episode(line, local(7, 9, 0))
    (alert,) = rules.evaluate_waiting(r, local(7, 9, 30))
    assert alert.key == f"waiting:{episode.pk}:0"
    assert "Claimed by" not in messages.render(alert, "en").body


def test_switching_a_rule_to_until_closed_never_sends_an_episodes_slot_twice(
    line, office_hours, owner
):
    r = rule(line, RuleKind.WAITING, wait_minutes=30, repeat_minutes=60)
    episode = open_episode(line, local(7, 9, 0))
    assert [a.key for a in rules.evaluate_waiting(r, local(7, 9, 30))] == [
        f"waiting:{episode.pk}:0"
    ]
    # Claimed, then the owner switches the rule: slot 0 was sent, slot 1 is next.
    Episode.objects.filter(pk=episode.pk).update(owner=owner, owner_name="olivia")
    assert rules.evaluate_waiting(r, local(7, 10, 0)) == []
    AlertRule.objects.filter(pk=r.pk).update(waiting_until="closed")
    r.refresh_from_db()
    assert rules.evaluate_waiting(r, local(7, 10, 0)) == []
    assert [a.key for a in rules.evaluate_waiting(r, local(7, 10, 30))] == [
        f"waiting:{episode.pk}:1"
    ]


def test_one_broken_rule_never_stops_the_others(line, monkeypatch):
    spike = spike_rule(line, missed_count=0, window_minutes=7 * 24 * 60)
    rule(line, RuleKind.DIGEST, digest_time=time(0), time_zone="UTC")

    def broken(r, now):
        raise RuntimeError("bug")

    monkeypatch.setitem(rules.EVALUATORS, RuleKind.DIGEST, broken)
    assert rules.evaluate_all(now=DEMO_NOW) == 1
    assert Alert.objects.get().rule == spike


def test_waiting_reads_new_missed_calls_itself_for_a_line_without_webhook(line):
    """No one opened the inbox: the evaluation syncs it through the cache, then alerts."""
    import httpx
    from django.utils import timezone

    from dashboard.smsmobileapi import conf
    from dashboard.smsmobileapi.client import SmsMobileApiClient
    from dashboard.smsmobileapi.demo import DemoUpstream

    now = timezone.now()
    upstream = DemoUpstream(clock=lambda: now, record_requests=True)
    client = SmsMobileApiClient(conf.DEMO_BASE_URL, transport=httpx.WSGITransport(app=upstream))
    previous = conf.set_client(client)
    try:
        r = rule(line, RuleKind.WAITING, wait_minutes=1)
        # Made before these calls, so their callers are announced.
        AlertRule.objects.filter(pk=r.pk).update(created_at=now - timedelta(days=60))
        r.refresh_from_db()
        assert not Episode.objects.exists()
        alerts = rules.evaluate_waiting(r, now)
        asked = len(upstream.requests)
        assert alerts and Episode.objects.filter(line=line, status=CallerStatus.OPEN).exists()
        rules.evaluate_waiting(r, now + timedelta(seconds=5))  # the next evaluation
        assert len(upstream.requests) == asked  # served by the sync's throttle and the cache
    finally:
        conf.set_client(previous)
        client.close()


def test_the_waiting_mail_names_its_zone_and_mentions_business_hours_only_when_set(
    line, monkeypatch
):
    monkeypatch.setattr(rules, "sync_if_due", lambda line: None)
    r = rule(line, RuleKind.WAITING, wait_minutes=30, time_zone="Europe/Brussels")
    first = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    open_episode(line, first)
    (always_open,) = rules.evaluate_waiting(r, first + timedelta(hours=2))
    body = messages.render(always_open, "en").body
    assert "since 4 Dec 2026, 09:00:00 (Europe/Brussels)" in body
    assert "business hours" not in body

    Episode.objects.all().delete()
    InboxSettings.objects.create(
        line=line, time_zone="Europe/Brussels", weekly_hours={str(d): [[0, 1440]] for d in range(7)}
    )
    open_episode(line, first, number="+32470999999")
    (office,) = rules.evaluate_waiting(r, first + timedelta(hours=2))
    assert "Waiting time counts the line's business hours only." in (
        messages.render(office, "en").body
    )


def test_a_contact_name_with_line_breaks_cannot_break_the_subject(line):
    r = rule(line, RuleKind.WAITING, wait_minutes=30)
    alert = Alert.objects.create(
        rule=r,
        line=line,
        key="waiting:1:0",
        kind=RuleKind.WAITING,
        facts={
            "number": "+32470123456",
            "name": "Eve\r\nBcc: all@example.com",
            "waiting_minutes": 31,
        },
    )
    subject = messages.render(alert, "en").subject
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("Support phone: Eve Bcc: all@example.com (+32 470 12 34 56)")
