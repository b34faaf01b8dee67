"""Time to callback over a period, for the overview: median, 90th percentile, and the share
of callers handled within the line's target time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from dashboard.inbox.models import CallerStatus, Episode
from dashboard.lines.models import Line

CALLBACK_STATUSES = (CallerStatus.CALLED_BACK, CallerStatus.REACHED)


@dataclass(frozen=True)
class CallbackStats:
    callers: int  # episodes whose first missed call fell in the period
    called_back: int  # of those, closed by a callback or an answered call
    median: timedelta | None
    p90: timedelta | None
    judged: int  # callers with a target that were closed, or are overdue
    within_target: int

    @property
    def within_target_share(self) -> float | None:
        return self.within_target / self.judged if self.judged else None


def percentile(sorted_values: list[timedelta], share: float) -> timedelta | None:
    """Nearest-rank percentile (0 < share <= 1) of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def callback_stats(line: Line, start: datetime, end: datetime, *, now: datetime) -> CallbackStats:
    """Over the episodes that began in [start, end)."""
    rows = list(
        Episode.objects.filter(line=line, first_attempt_at__gte=start, first_attempt_at__lt=end)
        .filter(Q(status__in=CALLBACK_STATUSES) | Q(due_at__isnull=False) | Q(status="open"))
        .values_list("status", "first_attempt_at", "callback_at", "closed_at", "due_at")
    )
    waits = sorted(
        callback - first
        for status, first, callback, _closed, _due in rows
        if status in CALLBACK_STATUSES and callback is not None and callback >= first
    )
    judged = within = 0
    for status, _first, _callback, closed, due in rows:
        if due is None:
            continue
        if status == CallerStatus.OPEN:
            if due < now:
                judged += 1  # overdue and still open: missed the target
            continue
        judged += 1
        within += closed is not None and closed <= due
    total = Episode.objects.filter(
        line=line, first_attempt_at__gte=start, first_attempt_at__lt=end
    ).count()
    return CallbackStats(
        callers=total,
        called_back=len(waits),
        median=percentile(waits, 0.5),
        p90=percentile(waits, 0.9),
        judged=judged,
        within_target=within,
    )
