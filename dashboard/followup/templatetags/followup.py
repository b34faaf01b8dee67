"""`{% followup_for call as fu %}`: the follow-up state of a missed call on this screen."""

from __future__ import annotations

from django import template

from dashboard.followup.state import FollowUpState
from dashboard.smsmobileapi.records import Call

register = template.Library()


@register.simple_tag(takes_context=True)
def followup_for(context: template.Context, call: Call) -> FollowUpState | None:
    followups = context.get("followups")
    return followups.for_call(call) if followups is not None else None
