"""The missed tab's follow-up side: marks and "answered later" on every row. Open
callers, one row each, are the inbox's (dashboard/inbox/)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.calls.filters import CallFilter
from dashboard.calls.service import CallPage, fetch_calls
from dashboard.calls.table import Column, columns_for
from dashboard.followup.later import LaterContacts, later_contacts
from dashboard.followup.state import followups_for
from dashboard.inbox.episodes import file_missed_calls
from dashboard.inbox.sync import SYNC_LOOKBACK
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import CallKind


def followup_column() -> Column:
    # Built per request: a label translated at import time would keep that language.
    return Column("followup", str(_("Follow-up")))


def missed_with_followups(
    request: HttpRequest, line: Line, call_filter: CallFilter
) -> tuple[CallPage, dict[str, Any]]:
    """The missed tab's page and the template context the follow-up controls need."""
    refresh = "refresh" in request.GET
    later = later_contacts(line)
    context: dict[str, Any] = {
        "columns": [*columns_for(CallKind.MISSED, call_filter), followup_column()],
    }
    page = fetch_calls(line, CallKind.MISSED, call_filter, request.time_zone, refresh=refresh)
    # The inbox learns of new missed callers from every missed page shown, for free.
    file_missed_calls(line, page.calls, since=timezone.now() - SYNC_LOOKBACK)
    context["followups"] = followups_for(line, page.calls, later)
    context["later_unreadable"] = later_unreadable(later)
    return page, context


@dataclasses.dataclass(frozen=True)
class LaterUnreadable:
    """Why no row can say "answered later": stated once above the table, not per row."""

    kinds: str  # the kinds' labels, e.g. "Incoming, Outgoing"
    message: str  # the provider's error in plain words, e.g. the expired subscription


def later_unreadable(later: LaterContacts) -> LaterUnreadable | None:
    failures = later.failures
    if not failures:
        return None
    # In the kinds' own order: the reads run in threads and fail in any order.
    kinds = [kind for kind in CallKind if kind in failures]
    errors = (failures[kind] for kind in kinds)
    messages = dict.fromkeys(str(e.user_message) for e in errors if e is not None)
    return LaterUnreadable(
        kinds=", ".join(str(kind.label) for kind in kinds), message=" ".join(messages)
    )
