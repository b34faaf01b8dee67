"""Reading and changing follow-up marks; every change is kept in the history and the
line's audit trail."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.transaction import on_commit
from django.utils import timezone

from dashboard.calls.cache import mark_views_stale
from dashboard.calls.phone import number_key
from dashboard.followup.models import FollowUpEvent, FollowUpMark, FollowUpStatus
from dashboard.inbox import people as inbox_people
from dashboard.inbox.models import Attempt, CallerStatus
from dashboard.lines import audit
from dashboard.lines.models import AuditAction, Line
from dashboard.smsmobileapi.records import Call, CallKind

AUDIT_MARKED = AuditAction.FOLLOWUP_MARKED
AUDIT_CLEARED = AuditAction.FOLLOWUP_CLEARED


@dataclass(frozen=True)
class CallRef:
    """What identifies a missed call for us: normalised number and exact time (UTC)."""

    number: str
    called_at: datetime

    @classmethod
    def of(cls, call: Call, region: str) -> CallRef | None:
        key = number_key(call.number, region)
        if not key:
            return None  # hidden numbers cannot be told apart: no mark for them
        return cls(key, call.started_at.astimezone(UTC))


def marks_for(line: Line, refs: Iterable[CallRef]) -> dict[CallRef, FollowUpMark]:
    """The current marks of these calls, in one query."""
    wanted = set(refs)
    if not wanted:
        return {}
    rows = FollowUpMark.objects.filter(
        line=line,
        number__in={r.number for r in wanted},
        called_at__in={r.called_at for r in wanted},
    )
    found = {CallRef(m.number, m.called_at.astimezone(UTC)): m for m in rows}
    return {ref: mark for ref, mark in found.items() if ref in wanted}


def history_for(line: Line, ref: CallRef, limit: int = 20) -> list[FollowUpEvent]:
    return list(
        FollowUpEvent.objects.filter(line=line, number=ref.number, called_at=ref.called_at)[:limit]
    )


def events_for_number(line: Line, number: str, limit: int = 100) -> list[FollowUpEvent]:
    """The follow-up history of every missed call from one number, newest first."""
    return list(FollowUpEvent.objects.filter(line=line, number=number)[:limit])


def set_mark(
    line: Line,
    user: AbstractBaseUser,
    ref: CallRef,
    status: FollowUpStatus | None,
    note: str = "",
) -> FollowUpMark | None:
    """Mark a missed call (or clear it with `status=None`). The last writer wins; every
    write, concurrent or not, is appended to the history."""
    now = timezone.now()
    name = user.get_username()
    with transaction.atomic():
        if status is None:
            FollowUpMark.objects.filter(
                line=line, number=ref.number, called_at=ref.called_at
            ).delete()
            mark = None
        else:
            values = {
                "status": status,
                "note": note,
                "marked_by": user,
                "marked_by_name": name,
                "marked_at": now,
            }
            # update_or_create locks the row (select_for_update) and, when two requests
            # insert at once, catches the unique-constraint clash and updates instead.
            mark, _created = FollowUpMark.objects.update_or_create(
                line=line, number=ref.number, called_at=ref.called_at, defaults=values
            )
        FollowUpEvent.objects.create(
            line=line,
            number=ref.number,
            called_at=ref.called_at,
            status=status or "",
            note=note if status else "",
            actor=user,
            actor_name=name,
            created_at=now,
        )
        audit.record(
            line,
            user,
            AUDIT_MARKED if status else AUDIT_CLEARED,  # type: ignore[arg-type]
            number=ref.number,
            called_at=ref.called_at.isoformat(),
            status=status or "",
            note=note if status else "",
        )
        if status is not None:
            _close_caller_when_all_marked(line, user, ref, status, note)
    _after_commit(lambda: mark_views_stale(line, CallKind.MISSED, calls_changed=False))
    return mark


def _close_caller_when_all_marked(
    line: Line, user: AbstractBaseUser, ref: CallRef, status: FollowUpStatus, note: str
) -> None:
    """Marking the last open missed call of a caller closes the caller in the inbox too
    (the inbox's own rule, the other way round: closing a caller closes its calls)."""
    attempt = Attempt.objects.filter(
        line=line, number=ref.number, called_at=ref.called_at, episode__status=CallerStatus.OPEN
    ).first()
    if attempt is None:
        return
    times = list(
        Attempt.objects.filter(episode_id=attempt.episode_id).values_list("called_at", flat=True)
    )
    marked = FollowUpMark.objects.filter(line=line, number=ref.number, called_at__in=times).count()
    if marked == len(times):
        inbox_people.mark(line, user, attempt.episode_id, CallerStatus(status.value), note, None)


def _after_commit(change: Callable[[], None]) -> None:
    """Run `change` now, and again once an enclosing transaction commits: a view drawn
    before the commit (from the old marks) is then stale too."""
    change()
    if connection.in_atomic_block:
        on_commit(change)
