"""Time to callback on the overview: median, p90, share within target (dashboard/inbox/stats.py)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.inbox.episodes import record_calls
from dashboard.inbox.models import InboxSettings
from dashboard.inbox.stats import callback_stats, percentile
from tests.fake_provider import call

MINUTE = timedelta(minutes=1)


def test_percentile_is_nearest_rank():
    values = [timedelta(minutes=m) for m in range(1, 11)]
    assert percentile(values, 0.5) == 5 * MINUTE
    assert percentile(values, 0.9) == 9 * MINUTE
    assert percentile([], 0.5) is None


def test_callback_stats_over_the_callers_of_a_period(line):
    InboxSettings.objects.create(line=line, target_minutes=30)
    now = timezone.now()
    base = now - timedelta(hours=5)
    calls = []
    for i, wait in enumerate([10, 20, 25, 120]):  # minutes to callback
        number = f"+3247000000{i}"
        calls += [call("missed", number, base), call("outgoing", number, base + wait * MINUTE)]
    calls.append(call("missed", "+32470000099", base))  # never called back: overdue
    record_calls(line, calls)
    stats = callback_stats(line, base - MINUTE, now, now=now)
    assert (stats.callers, stats.called_back) == (5, 4)
    assert stats.median == 20 * MINUTE and stats.p90 == 120 * MINUTE
    # 10, 20 and 25 within 30 minutes; 120 and the open overdue caller not.
    assert (stats.within_target, stats.judged) == (3, 5)


def test_the_overview_shows_time_to_callback(owner_client, line):
    now = timezone.now()
    record_calls(
        line,
        [
            call("missed", "+32470000001", now - 50 * MINUTE),
            call("outgoing", "+32470000001", now - 5 * MINUTE),
        ],
    )
    url = reverse("line-overview-content", kwargs={"line_id": line.pk})
    html = owner_client.get(url).content.decode()
    assert "Time to callback" in html and "45 min" in html
