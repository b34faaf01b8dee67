"""What people do with a caller: claim, assign, unassign, mark (close) and reopen.

Every change is a conditional update that applies only to the state the person saw
(no owner yet for a claim, the version they saw otherwise), so two people acting on the
same caller never overwrite each other: one wins, the other is told who did what. Each
change is kept in the episode's history and the line's audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.transaction import on_commit
from django.utils import timezone

from dashboard.calls.cache import mark_views_stale
from dashboard.inbox.counts import inbox_changed
from dashboard.inbox.models import (
    CLOSED_STATUSES,
    CallerStatus,
    Episode,
    EpisodeAction,
    EpisodeEvent,
)
from dashboard.inbox.targets import target_for
from dashboard.lines import audit
from dashboard.lines.models import AuditAction, Line
from dashboard.smsmobileapi.records import CallKind


@dataclass(frozen=True)
class Outcome:
    """`done` False: someone changed the caller first; `episode` is its state now."""

    done: bool
    episode: Episode | None  # None: the caller is no longer in this line's inbox
    reason: str = ""  # "taken", "changed", "not_open", "open_elsewhere", "gone"


def claim(line: Line, user: AbstractBaseUser, episode_id: int) -> Outcome:
    """ "I'll take it": only while nobody owns the caller (a second claim of one's own
    caller changes nothing and is no refusal)."""
    outcome = _change(
        line,
        user,
        episode_id,
        Episode.objects.filter(owner__isnull=True),
        {"owner": user, "owner_name": user.get_username()},
        EpisodeAction.CLAIMED,
        AuditAction.INBOX_CLAIMED,
        reason="taken",
    )
    if not outcome.done and outcome.episode and outcome.episode.owner_id == user.pk:
        return Outcome(True, outcome.episode, "already_yours")
    return outcome


def assign(
    line: Line,
    user: AbstractBaseUser,
    episode_id: int,
    to: AbstractBaseUser | None,
    seen: int | None,
) -> Outcome:
    """Give the caller to `to` (None: nobody), if it is still as the person saw it."""
    values = {"owner": to, "owner_name": to.get_username() if to else ""}
    action = EpisodeAction.ASSIGNED if to else EpisodeAction.UNASSIGNED
    audit_action = AuditAction.INBOX_ASSIGNED if to else AuditAction.INBOX_UNASSIGNED
    return _change(line, user, episode_id, _as_seen(seen), values, action, audit_action)


def mark(
    line: Line,
    user: AbstractBaseUser,
    episode_id: int,
    status: CallerStatus,
    note: str,
    seen: int | None,
) -> Outcome:
    """Close the caller (every open attempt with it) with a status and note, or reopen it
    with `CallerStatus.OPEN`. A person's mark wins over callback detection."""
    now = timezone.now()
    if status is CallerStatus.OPEN:
        return _reopen(line, user, episode_id, note, seen)
    assert status in CLOSED_STATUSES
    values = {
        "status": status,
        "note": note,
        "closed_at": now,
        "callback_at": now,
        "closed_by": user,
        "closed_by_name": user.get_username(),
    }
    return _change(
        line,
        user,
        episode_id,
        _as_seen(seen, Episode.objects.filter(status=CallerStatus.OPEN)),
        values,
        EpisodeAction.MARKED,
        AuditAction.INBOX_MARKED,
    )


def _reopen(
    line: Line, user: AbstractBaseUser, episode_id: int, note: str, seen: int | None
) -> Outcome:
    episode = Episode.objects.filter(line=line, pk=episode_id).first()
    target = target_for(line)
    values = {
        "status": CallerStatus.OPEN,
        "note": note,
        "closed_at": None,
        "callback_at": None,
        "closed_by": None,
        "closed_by_name": "",
        "due_at": target.due(episode.first_attempt_at) if episode else None,
    }
    try:
        with transaction.atomic():
            return _change(
                line,
                user,
                episode_id,
                _as_seen(seen, Episode.objects.exclude(status=CallerStatus.OPEN)),
                values,
                EpisodeAction.REOPENED,
                AuditAction.INBOX_REOPENED,
            )
    except IntegrityError:
        # A newer episode of the same caller is open: that one is where the work is.
        current = Episode.objects.get(line=line, pk=episode_id)
        return Outcome(False, current, "open_elsewhere")


def _as_seen(seen: int | None, otherwise=None):
    """The episodes still as the person saw them: by version, else `otherwise`."""
    if seen is not None:
        return Episode.objects.filter(version=seen)
    return otherwise if otherwise is not None else Episode.objects.all()


def assignable_users(line: Line):
    """Everyone who can see the line (the rule of `Line.objects.visible_to`, from the
    other side): its owner, people and groups it is shared with, and staff."""
    users = get_user_model().objects.filter(is_active=True)
    return (
        users.filter(
            Q(is_staff=True)
            | Q(pk=line.owner_id)
            | Q(pk__in=line.shared_with_users.values("pk"))
            | Q(groups__in=line.shared_with_groups.values("pk"))
        )
        .distinct()
        .order_by("username")
    )


def _change(
    line: Line,
    user: AbstractBaseUser,
    episode_id: int,
    condition,
    values: dict,
    action: EpisodeAction,
    audit_action: AuditAction,
    *,
    reason: str = "changed",
) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        applied = condition.filter(line=line, pk=episode_id).update(
            **values, version=F("version") + 1, updated_at=now
        )
        episode = Episode.objects.select_related("owner").filter(line=line, pk=episode_id).first()
        if episode is None:
            return Outcome(False, None, "gone")
        if not applied:
            return Outcome(False, episode, reason)
        EpisodeEvent.objects.create(
            episode=episode,
            action=action,
            actor=user,
            actor_name=user.get_username(),
            status=episode.status,
            owner_name=episode.owner_name,
            note=episode.note,
            created_at=now,
        )
        # The Missed tab's stored rows show the caller's state: they are out of date now.
        missed_views_stale(line)
        # Other people's open pages of the line: their counts follow, once committed.
        inbox_changed(line)
        audit.record(
            line,
            user,
            audit_action,
            number=episode.number,
            episode=episode.pk,
            status=episode.status,
            owner=episode.owner_name,
            note=episode.note,
        )
    return Outcome(True, episode)


def missed_views_stale(line: Line) -> None:
    """The Missed tab's stored rows (which show each caller's state) are out of date: now,
    and again once the enclosing transaction commits (a view drawn in between is too)."""

    def stale() -> None:
        mark_views_stale(line, CallKind.MISSED, calls_changed=False)

    stale()
    if connection.in_atomic_block:
        on_commit(stale)


def history(episode: Episode, limit: int = 20) -> list[EpisodeEvent]:
    return list(episode.events.all()[:limit])
