"""The one rule for "a pushed call and a listed call are the same call"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.calls.reconcile import Sighting, match, same_call

T0 = datetime(2026, 9, 23, 13, 10, tzinfo=UTC)
NUMBER = "+32470123456"


def test_the_same_number_within_two_minutes_is_the_same_call():
    assert same_call(Sighting(NUMBER, T0, "G1"), Sighting(NUMBER, T0 + timedelta(seconds=40)))
    assert same_call(Sighting(NUMBER, T0), Sighting(NUMBER, T0 - timedelta(minutes=2), "G1"))


def test_further_apart_or_another_number_is_another_call():
    assert not same_call(Sighting(NUMBER, T0, "G1"), Sighting(NUMBER, T0 + timedelta(minutes=5)))
    assert not same_call(Sighting(NUMBER, T0, "G1"), Sighting("+32470123457", T0))


def test_guids_decide_when_both_sides_have_one():
    assert not same_call(Sighting(NUMBER, T0, "G1"), Sighting(NUMBER, T0, "G2"))
    assert same_call(Sighting(NUMBER, T0, "G1"), Sighting(NUMBER, T0 + timedelta(hours=1), "G1"))


def test_match_picks_the_closest_known_call():
    near, far = (
        Sighting(NUMBER, T0 + timedelta(seconds=5)),
        Sighting(NUMBER, T0 + timedelta(seconds=90)),
    )
    assert match(Sighting(NUMBER, T0, "G1"), [far, near]) == near
    assert match(Sighting(NUMBER, T0, "G1"), []) is None


def test_two_listed_calls_without_guids_match_only_at_the_same_time():
    # Both from the provider's list: its own clock, so a minute apart is two calls.
    assert same_call(Sighting(NUMBER, T0), Sighting(NUMBER, T0))
    assert not same_call(Sighting(NUMBER, T0), Sighting(NUMBER, T0 + timedelta(minutes=1)))
