"""How deep the inbox's sync reads the provider, and in how many round trips: the chunks
a kind still needs after its first one are read side by side, and no more of them than
its calls' pace says reach back to where the sync stops."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.inbox.models import CallerStatus, Episode
from dashboard.inbox.sync import CHUNK, SYNC_LOOKBACK, sync_line
from dashboard.smsmobileapi.records import CallKind
from tests.fake_provider import call

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class Reader:
    """The sync's chunk reader over fixed calls per kind (newest first); records every
    (kind, offset) asked. `together` offsets of one kind must be asked at the same time:
    each waits for the others (a sequential reader would break the barrier)."""

    def __init__(self, calls: dict[CallKind, list], together: tuple[CallKind, list[int]] = ()):
        self.calls = {kind: calls.get(kind, []) for kind in CallKind}
        self.asked: list[tuple[CallKind, int]] = []
        self.together = together
        self.barrier = threading.Barrier(len(together[1]), timeout=10) if together else None
        self._lock = threading.Lock()

    def __call__(self, kind: CallKind, offset: int):
        with self._lock:
            self.asked.append((kind, offset))
        if self.barrier and kind is self.together[0] and offset in self.together[1]:
            self.barrier.wait()
        page = tuple(self.calls[kind][offset : offset + CHUNK])
        return page, len(page), NOW

    def offsets(self, kind: CallKind) -> list[int]:
        return sorted(offset for k, offset in self.asked if k is kind)


def every(kind: str, prefix: str, n: int, step: timedelta, start: datetime = NOW) -> list:
    return [call(kind, f"{prefix}{i:04d}", start - step * (i + 1)) for i in range(n)]


@pytest.fixture
def line(line):
    line.default_region = "BE"
    line.save()
    return line


def test_a_deep_first_sync_reads_the_remaining_chunks_side_by_side(line):
    # 500 missed callers, one every 40 minutes: 14 days, three chunks, all needed.
    reader = Reader(
        {CallKind.MISSED: every("missed", "+3246000", 500, timedelta(minutes=40))},
        together=(CallKind.MISSED, [200, 400]),
    )

    result = sync_line(line, reader=reader, now=NOW)

    assert reader.offsets(CallKind.MISSED) == [0, 200, 400]
    assert result.complete[CallKind.MISSED] and not result.failed
    assert Episode.objects.filter(line=line, status=CallerStatus.OPEN).count() == 500


def test_a_sync_reads_only_the_chunks_the_pace_of_calls_says_it_needs(line):
    # Incoming: one every 2.4 hours for 60 days (600 calls). The first chunk covers 20
    # days; the 10 left to the 30-day lookback are about 100 calls: one more chunk, not
    # the two the sync would be allowed.
    step = 2 * SYNC_LOOKBACK / 600
    reader = Reader(
        {
            CallKind.INCOMING: every("incoming", "+3247100", 600, step),
            CallKind.MISSED: every("missed", "+3246000", 5, timedelta(hours=1)),
        }
    )

    sync_line(line, reader=reader, now=NOW)

    assert reader.offsets(CallKind.INCOMING) == [0, 200]
    assert reader.offsets(CallKind.MISSED) == [0]


def test_when_the_pace_misjudges_the_depth_the_sync_reads_on(line):
    # Sparse first (200 calls over 20 days), then a burst (400 calls in half a day): the
    # first guess says one chunk more; it does not reach back far enough, so one more.
    sparse = every("outgoing", "+3247200", 200, timedelta(days=20) / 200)
    burst = every("outgoing", "+3247300", 400, timedelta(hours=12) / 400, sparse[-1].started_at)
    reader = Reader({CallKind.OUTGOING: sparse + burst})

    result = sync_line(line, reader=reader, now=NOW)

    assert reader.offsets(CallKind.OUTGOING) == [0, 200, 400]
    assert not result.complete[CallKind.OUTGOING]  # the sync's maximum, 600 rows, read
