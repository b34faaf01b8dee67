"""Filing missed calls into per-caller episodes, and detecting callbacks.

`record_calls` is the one way calls reach the inbox: the page's sync (sync.py) passes
what it read from the provider, a webhook passes one call as it arrives
(`record_missed_call`). Missed calls become attempts of the caller's open episode (or
open one); incoming and outgoing calls close an open episode they follow ("reached",
"called back"). Calls are applied oldest first, so a missed call after a callback opens a
new episode even when both arrive in the same batch.

Writes for one line are serialised by locking the line's row (PostgreSQL; SQLite's
immediate transactions serialise every writer anyway). People's changes (people.py) never
take that lock: they are conditional updates that only apply to the state they saw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F

from dashboard.calls.phone import number_key
from dashboard.calls.reconcile import RECONCILE_WINDOW, Sighting, match
from dashboard.inbox.counts import inbox_changed
from dashboard.inbox.models import (
    NAME_MAX_LENGTH,
    Attempt,
    CallerStatus,
    Episode,
    EpisodeAction,
    EpisodeEvent,
)
from dashboard.inbox.people import missed_views_stale
from dashboard.inbox.targets import Target, target_for
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import Call, CallKind

# What closes an episode by detection, per kind of later call.
DETECTED_STATUS = {
    CallKind.OUTGOING: CallerStatus.CALLED_BACK,
    CallKind.INCOMING: CallerStatus.REACHED,
}


@dataclass(frozen=True, order=True)
class _Event:
    at: datetime
    kind: CallKind
    name: str = ""
    guid: str = ""


@dataclass
class Recorded:
    """What one `record_calls` changed."""

    attempts: int = 0  # new missed calls filed
    opened: int = 0  # new episodes
    detected: int = 0  # episodes closed by a callback or an answered call


def record_missed_call(line: Line, call: Call) -> Episode | None:
    """File one missed call as it arrives (the webhook's entry point): the caller's open
    episode gains an attempt, or a new one opens. None for a hidden number."""
    key = number_key(call.number, line.default_region)
    if call.kind is not CallKind.MISSED or not key:
        return None
    record_calls(line, [call])
    at = call.started_at.astimezone(UTC)
    near = list(
        Attempt.objects.filter(
            line=line, number=key, called_at__range=(at - RECONCILE_WINDOW, at + RECONCILE_WINDOW)
        ).select_related("episode")
    )
    sightings = [Sighting(a.number, a.called_at, a.guid) for a in near]
    found = match(Sighting(key, at, call.guid), sightings)
    return near[sightings.index(found)].episode if found else None


def record_calls(
    line: Line, calls: Iterable[Call], *, now: datetime | None = None, check_filed: bool = True
) -> Recorded:
    """File missed calls and detect callbacks from incoming/outgoing ones (any order;
    calls already filed are skipped). `check_filed=False` skips the read-only look for
    an all-filed batch first (calls that are almost surely new: a webhook's)."""
    per_number: dict[str, set[_Event]] = defaultdict(set)
    for call in calls:
        key = number_key(call.number, line.default_region)
        if key:
            at = call.started_at.astimezone(UTC)
            per_number[key].add(_Event(at, call.kind, call.name, call.guid))
    result = Recorded()
    # Only missed calls, every one already filed: nothing to write, so no write lock (the
    # Missed tab files the page it shows on every view). The write transaction checks
    # again anyway: `check_filed=False` skips this look for calls almost surely new.
    if not per_number or (check_filed and not _unfiled(line, per_number)):
        return result
    target = target_for(line)
    with transaction.atomic():
        # One writer per line at a time (a no-op on SQLite, which has one writer anyway).
        Line.objects.select_for_update().filter(pk=line.pk).exists()
        fresh = _unfiled(line, per_number)
        episodes: dict[str, list[Episode]] = defaultdict(list)
        for episode in Episode.objects.filter(line=line, number__in=per_number).order_by(
            "first_attempt_at", "pk"
        ):
            episodes[episode.number].append(episode)
        filer = _Filer(line, target, result)
        for number, events in fresh.items():
            filer.file(number, episodes[number], events)
        filer.save()
        if result.detected:
            # Closed callers show on the Missed tab's stored rows: those are out of date.
            missed_views_stale(line)
        if result.opened or result.detected:
            # A caller opened or closed: open pages of the line get the new count.
            inbox_changed(line)
    return result


def _unfiled(line: Line, per_number: dict[str, set[_Event]]) -> dict[str, list[_Event]]:
    """Each caller's calls still to apply, oldest first: every incoming/outgoing one (they
    may close an episode), and the missed ones no filed attempt already stands for. A
    pushed call and the same call listed later are one attempt (reconcile.same_call); one
    filed attempt stands for one call, so two real calls a minute apart stay two."""
    missed_times = [e.at for events in per_number.values() for e in events if _is_missed(e)]
    known: dict[str, list[Sighting]] = defaultdict(list)
    if missed_times:
        window = (min(missed_times) - RECONCILE_WINDOW, max(missed_times) + RECONCILE_WINDOW)
        filed = Attempt.objects.filter(
            line=line, number__in=per_number, called_at__range=window
        ).values_list("number", "called_at", "guid")
        for number, at, guid in filed:
            known[number].append(Sighting(number, at.astimezone(UTC), guid))
    unfiled: dict[str, list[_Event]] = {}
    for number, events in per_number.items():
        left = known[number]
        kept = []
        for event in sorted(events):
            if _is_missed(event):
                seen = match(Sighting(number, event.at, event.guid), left)
                if seen is not None:
                    left.remove(seen)
                    continue
            kept.append(event)
        if kept:
            unfiled[number] = kept
    return unfiled


def file_missed_calls(line: Line, calls: Iterable[Call], *, since: datetime) -> Recorded:
    """File the missed calls a page already holds (no provider request of its own);
    older than `since` they are history, not inbox work."""
    return record_calls(
        line, [c for c in calls if c.kind is CallKind.MISSED and c.started_at >= since]
    )


def _is_missed(event: _Event) -> bool:
    return event.kind is CallKind.MISSED


class _Filer:
    """Applies one caller's calls, oldest first, to their episodes in memory; `save`
    writes every change in a few queries."""

    def __init__(self, line: Line, target: Target, result: Recorded):
        self.line = line
        self.target = target
        self.result = result
        self.changed: dict[int, Episode] = {}
        self.closed: dict[int, Episode] = {}
        self.new: list[Episode] = []
        self.attempts: list[tuple[Episode, _Event]] = []

    def file(self, number: str, episodes: list[Episode], events: list[_Event]) -> None:
        for event in events:
            open_episode = next((e for e in episodes if e.is_open), None)
            if not _is_missed(event):
                # The first call after the first open attempt closes the episode; a
                # person's mark (already closed) always wins.
                if open_episode is not None and event.at > open_episode.first_attempt_at:
                    self._detect(open_episode, event)
                continue
            episode = self._episode_for(episodes, event.at)
            if episode is None:
                episode = Episode(
                    line=self.line,
                    number=number,
                    status=CallerStatus.OPEN,
                    attempts=0,
                    first_attempt_at=event.at,
                    last_attempt_at=event.at,
                )
                episodes.append(episode)
                self.new.append(episode)
                self.result.opened += 1
            self._attach(episode, event)

    def _episode_for(self, episodes: list[Episode], at: datetime) -> Episode | None:
        """The episode this missed call belongs to: one it falls within, else the open one
        when it is older than that episode's first attempt (read late), else none."""
        for episode in episodes:
            ends = None if episode.is_open else episode.closed_at
            if episode.first_attempt_at <= at and (ends is None or at <= ends):
                return episode
        later = [e for e in episodes if e.first_attempt_at > at]
        if later:
            # Read late (an older page, a late webhook): it joins the next episode, unless
            # an earlier one was closed after it, which the loop above would have found.
            return min(later, key=lambda e: e.first_attempt_at)
        return None

    def _attach(self, episode: Episode, event: _Event) -> None:
        episode.attempts += 1
        if event.at < episode.first_attempt_at:
            episode.first_attempt_at = event.at
        if event.at >= episode.last_attempt_at:
            episode.last_attempt_at = event.at
            if event.name:
                episode.name = event.name[:NAME_MAX_LENGTH]
        elif not episode.name and event.name:
            episode.name = event.name[:NAME_MAX_LENGTH]
        if episode.is_open:
            episode.due_at = self.target.due(episode.first_attempt_at)
        self.attempts.append((episode, event))
        self.result.attempts += 1
        if episode.pk:
            self.changed[episode.pk] = episode

    def _detect(self, episode: Episode, event: _Event) -> None:
        episode.status = DETECTED_STATUS[event.kind]
        episode.callback_at = episode.closed_at = event.at
        episode.closed_by = None
        episode.closed_by_name = ""
        self.result.detected += 1
        if episode.pk:
            self.closed[episode.pk] = episode

    def save(self) -> None:
        if self.changed:
            Episode.objects.bulk_update(
                list(self.changed.values()),
                ["attempts", "first_attempt_at", "last_attempt_at", "name", "due_at"],
            )
        detected: list[Episode] = []
        for episode in self.closed.values():
            # Only if nobody marked it meanwhile: a person's mark wins over detection.
            applied = Episode.objects.filter(pk=episode.pk, status=CallerStatus.OPEN).update(
                status=episode.status,
                callback_at=episode.callback_at,
                closed_at=episode.closed_at,
                version=F("version") + 1,
            )
            if applied:
                detected.append(episode)
        if self.new:
            Episode.objects.bulk_create(self.new)
            detected += [e for e in self.new if not e.is_open]
        EpisodeEvent.objects.bulk_create(
            EpisodeEvent(
                episode=e, action=EpisodeAction.DETECTED, status=e.status, created_at=e.closed_at
            )
            for e in detected
        )
        Attempt.objects.bulk_create(
            [
                Attempt(
                    line=self.line,
                    episode=episode,
                    number=episode.number,
                    called_at=event.at,
                    guid=event.guid[:200],
                )
                for episode, event in self.attempts
            ],
            ignore_conflicts=True,
        )
