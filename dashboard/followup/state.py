"""What the tables show for each missed call: its mark, and whether it was answered later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.followup.later import Later, LaterContacts
from dashboard.followup.marks import CallRef, marks_for
from dashboard.followup.models import FollowUpMark
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import Call, CallKind


@dataclass(frozen=True)
class FollowUpState:
    ref: CallRef
    mark: FollowUpMark | None
    later: Later

    @property
    def is_open(self) -> bool:
        """Work left: nobody marked it and no later contact was found."""
        return self.mark is None and not self.later.answered


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
    states = {
        ref: FollowUpState(ref, marks.get(ref), later.after(call.number, ref.called_at))
        for ref, call in refs.items()
    }
    return FollowUps(line.default_region, states)
