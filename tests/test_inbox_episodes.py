"""Per-caller episodes: filing missed calls, reopening, callback detection, people's
changes and the concurrent claim (dashboard/inbox/episodes.py, people.py)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from dashboard.inbox import people
from dashboard.inbox.episodes import record_calls, record_missed_call
from dashboard.inbox.models import Attempt, CallerStatus, Episode, EpisodeEvent, InboxSettings
from dashboard.lines.models import AuditAction, AuditEvent
from tests.fake_provider import T0, call

MINUTE = timedelta(minutes=1)
CALLER = "+32470123456"


def missed(at, number=CALLER, name=""):
    return call("missed", number, at, name=name)


def test_several_missed_calls_from_one_caller_are_one_open_episode(line):
    result = record_calls(
        line, [missed(T0), missed(T0 + 5 * MINUTE, "0470 12 34 56", "Zoë"), missed(T0 + 9 * MINUTE)]
    )
    episode = Episode.objects.get()
    assert (episode.number, episode.attempts, episode.status) == (CALLER, 3, CallerStatus.OPEN)
    assert (episode.first_attempt_at, episode.last_attempt_at) == (T0, T0 + 9 * MINUTE)
    assert episode.name == "Zoë"
    assert (result.attempts, result.opened) == (3, 1)


def test_the_same_calls_read_twice_are_filed_once(line):
    calls = [missed(T0), missed(T0 + MINUTE)]
    record_calls(line, calls)
    again = record_calls(line, calls)
    assert again.attempts == 0
    assert Episode.objects.get().attempts == 2
    assert Attempt.objects.count() == 2


def test_hidden_numbers_are_not_filed(line):
    record_calls(line, [missed(T0, number="")])
    assert record_missed_call(line, missed(T0, number="")) is None
    assert not Episode.objects.exists()


def test_an_outgoing_call_after_the_first_attempt_closes_it_as_called_back(line):
    record_calls(
        line, [missed(T0), missed(T0 + 5 * MINUTE), call("outgoing", CALLER, T0 + 12 * MINUTE)]
    )
    episode = Episode.objects.get()
    assert episode.status == CallerStatus.CALLED_BACK
    assert episode.time_to_callback == 12 * MINUTE
    assert episode.detected
    assert EpisodeEvent.objects.get().action == "detected"


def test_an_answered_incoming_call_closes_it_as_reached(line):
    record_calls(line, [missed(T0), call("incoming", CALLER, T0 + 30 * MINUTE)])
    assert Episode.objects.get().status == CallerStatus.REACHED


def test_the_first_contact_after_the_first_attempt_wins(line):
    record_calls(
        line,
        [
            call("outgoing", CALLER, T0 - MINUTE),  # before: not a callback
            missed(T0),
            call("incoming", CALLER, T0 + 20 * MINUTE),
            call("outgoing", CALLER, T0 + 40 * MINUTE),
        ],
    )
    episode = Episode.objects.get()
    assert (episode.status, episode.time_to_callback) == (CallerStatus.REACHED, 20 * MINUTE)


def test_a_missed_call_after_a_callback_opens_a_new_episode_even_in_one_batch(line):
    record_calls(
        line, [missed(T0), call("outgoing", CALLER, T0 + 10 * MINUTE), missed(T0 + 20 * MINUTE)]
    )
    first, second = Episode.objects.order_by("first_attempt_at")
    assert (first.status, first.attempts) == (CallerStatus.CALLED_BACK, 1)
    assert (second.status, second.attempts, second.first_attempt_at) == (
        CallerStatus.OPEN,
        1,
        T0 + 20 * MINUTE,
    )


def test_a_missed_call_from_a_closed_caller_reopens_it_as_a_new_episode(line, owner):
    record_calls(line, [missed(timezone.now() - timedelta(hours=1))])
    episode = Episode.objects.get()
    assert people.mark(
        line, owner, episode.pk, CallerStatus.HANDLED, "Sent an e-mail", episode.version
    ).done
    new = record_missed_call(line, missed(timezone.now() + MINUTE))  # after the mark
    assert new is not None and new.pk != episode.pk and new.is_open and new.attempts == 1
    episode.refresh_from_db()
    assert (episode.status, episode.note, episode.attempts) == (
        CallerStatus.HANDLED,
        "Sent an e-mail",
        1,
    )


def test_a_late_read_missed_call_before_the_mark_stays_with_the_closed_episode(line, owner):
    record_calls(line, [missed(T0)])
    episode = Episode.objects.get()
    people.mark(line, owner, episode.pk, CallerStatus.IGNORED, "", episode.version)
    record_calls(line, [missed(T0 + MINUTE)])  # older than the mark (made "now")
    episode.refresh_from_db()
    assert Episode.objects.count() == 1 and episode.attempts == 2


def test_a_persons_mark_wins_over_detection(line, owner):
    record_calls(line, [missed(T0)])
    episode = Episode.objects.get()
    people.mark(line, owner, episode.pk, CallerStatus.HANDLED, "Wrong number", episode.version)
    record_calls(line, [call("outgoing", CALLER, T0 + MINUTE)])
    episode.refresh_from_db()
    assert (episode.status, episode.closed_by_name) == (CallerStatus.HANDLED, "olivia")


def test_closing_a_caller_closes_all_its_attempts_and_is_audited(line, owner):
    record_calls(line, [missed(T0), missed(T0 + MINUTE), missed(T0 + 2 * MINUTE)])
    episode = Episode.objects.get()
    outcome = people.mark(
        line, owner, episode.pk, CallerStatus.CALLED_BACK, "Left a message", episode.version
    )
    assert outcome.done
    assert not Episode.objects.filter(status=CallerStatus.OPEN).exists()
    assert set(Attempt.objects.values_list("episode__status", flat=True)) == {
        CallerStatus.CALLED_BACK
    }
    event = AuditEvent.objects.get(action=AuditAction.INBOX_MARKED)
    assert event.details["number"] == CALLER and event.details["note"] == "Left a message"


def test_claim_assign_unassign_are_audited_and_kept_in_the_history(line, owner, shared_user):
    record_calls(line, [missed(T0)])
    episode = Episode.objects.get()
    assert people.claim(line, owner, episode.pk).done
    episode.refresh_from_db()
    assert people.assign(line, owner, episode.pk, shared_user, episode.version).done
    episode.refresh_from_db()
    assert episode.owner == shared_user and episode.owner_name == "sam"
    assert people.assign(line, owner, episode.pk, None, episode.version).done
    episode.refresh_from_db()
    assert episode.owner is None
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [
        AuditAction.INBOX_CLAIMED,
        AuditAction.INBOX_ASSIGNED,
        AuditAction.INBOX_UNASSIGNED,
    ]
    assert [e.action for e in episode.events.order_by("pk")] == [
        "claimed",
        "assigned",
        "unassigned",
    ]


def test_a_claimed_caller_cannot_be_claimed_again_and_says_by_whom(line, owner, shared_user):
    record_calls(line, [missed(T0)])
    episode = Episode.objects.get()
    people.claim(line, shared_user, episode.pk)
    outcome = people.claim(line, owner, episode.pk)
    assert not outcome.done and outcome.reason == "taken" and outcome.episode.owner_name == "sam"


def test_a_change_based_on_an_old_view_is_refused(line, owner, shared_user):
    record_calls(line, [missed(T0)])
    episode = Episode.objects.get()
    seen = episode.version
    assert people.mark(line, shared_user, episode.pk, CallerStatus.HANDLED, "", seen).done
    outcome = people.mark(line, owner, episode.pk, CallerStatus.IGNORED, "", seen)
    assert not outcome.done and outcome.episode.status == CallerStatus.HANDLED
    assert outcome.episode.closed_by_name == "sam"


def test_reopening_a_caller_whose_newer_episode_is_open_says_so(line, owner):
    record_calls(line, [missed(timezone.now() - timedelta(hours=1))])
    old = Episode.objects.get()
    people.mark(line, owner, old.pk, CallerStatus.HANDLED, "", old.version)
    record_missed_call(line, missed(timezone.now() + MINUTE))  # after the mark
    old.refresh_from_db()
    outcome = people.mark(line, owner, old.pk, CallerStatus.OPEN, "", old.version)
    assert not outcome.done and outcome.reason == "open_elsewhere"
    assert Episode.objects.filter(status=CallerStatus.OPEN).count() == 1


def test_the_target_time_sets_when_a_caller_becomes_overdue(line):
    InboxSettings.objects.create(line=line, target_minutes=30, time_zone="Europe/Brussels")
    record_calls(line, [missed(T0)])
    assert Episode.objects.get().due_at == T0 + 30 * MINUTE


@pytest.mark.django_db(transaction=True)  # each thread has its own connection
def test_two_people_claiming_at_the_same_moment_exactly_one_wins(
    line, owner, shared_user, monkeypatch
):
    record_calls(line, [missed(T0)])
    episode = Episode.objects.get()
    barrier = threading.Barrier(2, timeout=10)
    real_atomic = transaction.atomic

    def atomic_after_meeting(*args, **kwargs):
        # Both are inside claim() before either starts its transaction: on PostgreSQL the
        # two UPDATEs meet at the row lock, on SQLite at the write lock.
        barrier.wait()
        return real_atomic(*args, **kwargs)

    monkeypatch.setattr(people, "transaction", SimpleNamespace(atomic=atomic_after_meeting))
    outcomes = {}

    def claim(user):
        try:
            outcomes[user.username] = people.claim(line, user, episode.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (owner, shared_user)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not barrier.broken
    winners = [name for name, o in outcomes.items() if o.done]
    losers = [o for o in outcomes.values() if not o.done]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].episode.owner_name == winners[0]  # the loser is told who has it
    episode.refresh_from_db()
    assert episode.owner_name == winners[0]
    assert AuditEvent.objects.filter(action=AuditAction.INBOX_CLAIMED).count() == 1


# A pushed call and the listed one are one attempt (dashboard/calls/reconcile.py) ------------


def pushed(at, number=CALLER, guid="CALL-GUID-1"):
    """A missed call as a webhook gives it: the phone's time and the provider's guid."""
    return dataclasses.replace(missed(at, number), guid=guid)


def test_a_pushed_call_then_the_same_call_listed_40_s_later_is_one_attempt(line):
    episode = record_missed_call(line, pushed(T0))
    again = record_calls(line, [missed(T0 + timedelta(seconds=40), "0470 12 34 56")])
    assert again.attempts == 0
    assert Attempt.objects.count() == 1
    assert Episode.objects.get().attempts == 1
    # The late webhook of a call the list filed first finds that caller's episode too.
    assert record_missed_call(line, pushed(T0 - timedelta(seconds=40))) == episode
    assert Attempt.objects.count() == 1


def test_two_real_calls_5_minutes_apart_are_two_attempts(line):
    record_missed_call(line, pushed(T0, guid="CALL-GUID-1"))
    record_calls(line, [missed(T0 + 5 * MINUTE)])
    assert Episode.objects.get().attempts == 2


def test_two_pushed_calls_a_minute_apart_stay_two_and_the_list_adds_none(line):
    # Different guids: two calls, however close; then the list's two rows match one each.
    record_missed_call(line, pushed(T0, guid="CALL-GUID-1"))
    record_missed_call(line, pushed(T0 + MINUTE, guid="CALL-GUID-2"))
    assert Attempt.objects.count() == 2
    listed = [missed(T0 + timedelta(seconds=3)), missed(T0 + timedelta(seconds=63))]
    assert record_calls(line, listed).attempts == 0
    assert Episode.objects.get().attempts == 2
