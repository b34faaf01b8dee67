"""What the tables show for each missed call: its mark, and whether it was answered later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from dashboard.followup.later import Later, LaterContacts, keep_later
from dashboard.followup.marks import CallRef, marks_for
from dashboard.followup.models import FollowUpMark
from dashboard.inbox.models import Attempt, CallerStatus, Episode
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import Call, CallKind


@dataclass(frozen=True)
class FollowUpState:
    ref: CallRef
    mark: FollowUpMark | None
    later: Later
    # The inbox episode this call was filed under, when it is closed: closing a caller
    # closes every one of its missed calls.
    closed_by_inbox: Episode | None = None

    @property
    def is_open(self) -> bool:
        """Work left: nobody marked it or its caller, and no later contact was found."""
        return self.mark is None and self.closed_by_inbox is None and not self.later.answered


class FollowUps:
    """The states of the missed calls on one screen, looked up by call in templates."""

    def __init__(self, region: str, states: dict[CallRef, FollowUpState]):
        self.region = region
        self.states = states

    def for_call(self, call: Call) -> FollowUpState | None:
        ref = CallRef.of(call, self.region)
        return self.states.get(ref) if ref else None


def followups_for(line: Line, calls: Iterable[Call], later: LaterContacts) -> FollowUps:
    """One database query for the marks; the later-contact window read as deep as needed."""
    refs = {}
    for call in calls:
        if call.kind is CallKind.MISSED:
            ref = CallRef.of(call, line.default_region)
            if ref:
                refs[ref] = call
    marks = marks_for(line, refs)
    closed = closed_episodes_for(line, refs)
    states = {
        ref: FollowUpState(
            ref, marks.get(ref), later.after(call.number, ref.called_at), closed.get(ref)
        )
        for ref, call in refs.items()
    }
    keep_later(later)  # for the line's next screen, whoever views it
    return FollowUps(line.default_region, states)


def closed_episodes_for(line: Line, refs: Iterable[CallRef]) -> dict[CallRef, Episode]:
    """The closed inbox episodes these missed calls belong to, in one query."""
    wanted = set(refs)
    if not wanted:
        return {}
    attempts = (
        Attempt.objects.filter(
            line=line,
            number__in={r.number for r in wanted},
            called_at__in={r.called_at for r in wanted},
        )
        .exclude(episode__status=CallerStatus.OPEN)
        .select_related("episode")
    )
    found = {CallRef(a.number, a.called_at.astimezone(UTC)): a.episode for a in attempts}
    return {ref: episode for ref, episode in found.items() if ref in wanted}
