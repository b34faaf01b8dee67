"""The overview for a line and a period: read the calls in bounded work, aggregate, cache."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.utils import timezone

from dashboard.calls.cache import last_changed
from dashboard.lines.crypto import KeyDecryptionError
from dashboard.lines.models import Line
from dashboard.ops.safe_cache import safe_cache
from dashboard.reports.overview import DateRange, KindReading, Overview, summarise
from dashboard.reports.reading import CallReader
from dashboard.smsmobileapi.records import Call, CallKind, CallQuery

CACHE_PREFIX = "reports:overview:v1:"
# The previous period only feeds the missed-call rate's trend.
PREVIOUS_KINDS = (CallKind.MISSED, CallKind.INCOMING)


def overview_cache_key(line: Line, period: DateRange, max_rows: int) -> str | None:
    """Key of the line's *key* (not the line: two lines on one key share it), the days, the
    zone and the cap; hashed, so nothing about the key is readable in the cache."""
    try:
        fingerprint = line.key_fingerprint
    except KeyDecryptionError:
        return None
    raw = f"{fingerprint}|{period.start}|{period.end}|{period.tz_name}|{max_rows}"
    return CACHE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def query_for(kind: CallKind, period: DateRange) -> CallQuery:
    """Newest first, so a capped reading loses the oldest days, which the page says."""
    # Every kind in the viewer's exact days: `CallReader` trims missed calls to them.
    return CallQuery(date_from=period.start, date_to=period.end, tz_name=period.tz_name)


def _read(
    line: Line, kinds: tuple[CallKind, ...], period: DateRange, max_rows: int, refresh: bool
) -> tuple[list[Call], tuple[KindReading, ...]]:
    calls: list[Call] = []
    readings = []
    for kind in kinds:
        reader = CallReader(line, kind, query_for(kind, period), max_rows, refresh=refresh)
        calls.extend(reader)
        readings.append(
            KindReading(
                kind=kind,
                rows=reader.rows,
                pages=reader.pages,
                truncated=reader.truncated,
                error_message=str(reader.error.user_message) if reader.error else "",
                stale=reader.stale,
                transient=bool(reader.error and reader.error.transient),
            )
        )
    return calls, tuple(readings)


def _changed_since(line: Line, overview: Overview) -> bool:
    """Whether a webhook said the line's calls changed after `overview` was computed."""
    changed = last_changed(line.key_fingerprint, tuple(CallKind))
    return changed is not None and changed >= overview.computed_at.timestamp()


def build_overview(line: Line, period: DateRange, *, refresh: bool = False) -> Overview:
    """The overview, from the cache when a complete one is there (and not `refresh`)."""
    max_rows = settings.OVERVIEW_MAX_ROWS
    key = overview_cache_key(line, period, max_rows)
    if key and not refresh:
        cached = safe_cache.get(key)
        if isinstance(cached, Overview) and not _changed_since(line, cached):
            return cached
    calls, readings = _read(line, tuple(CallKind), period, max_rows, refresh)
    previous = period.previous()
    previous_calls, previous_readings = _read(line, PREVIOUS_KINDS, previous, max_rows, refresh)
    previous_rate = None
    if not any(r.error_message for r in previous_readings):
        previous_rate = summarise(previous_calls, previous, top=0).missed_rate
    overview = Overview(
        current=summarise(calls, period),
        previous_missed_rate=previous_rate,
        previous_range=previous,
        readings=readings,
        previous_readings=previous_readings,
        computed_at=timezone.now(),
        max_rows=max_rows,
    )
    # Only complete answers are cached: an error must not stick for the TTL.
    if key and overview.complete:
        safe_cache.set(key, overview, settings.OVERVIEW_CACHE_SECONDS)
    return overview
