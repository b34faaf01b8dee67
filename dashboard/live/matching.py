"""Whether a pushed call belongs in a table with these filters (no provider involved).

The provider's search is a SQL `LIKE %term%` on the number and the name, compared case-
and accent-blind (assumed, see README "Search"); `CallFilter.search` is the term it is
sent. Dates are the viewer's calendar days.
"""

from __future__ import annotations

from datetime import tzinfo

from dashboard.calls.filters import CallFilter
from dashboard.smsmobileapi.records import Call
from dashboard.text import fold


def matches(call: Call, call_filter: CallFilter, zone: tzinfo) -> bool:
    """True when the provider's list for `call_filter` would hold `call`."""
    term = call_filter.search
    if term:
        wanted = fold(term)
        if wanted not in fold(call.number) and wanted not in fold(call.name):
            return False
    day = call.started_at.astimezone(zone).date()
    if call_filter.date_from and day < call_filter.date_from:
        return False
    return not (call_filter.date_to and day > call_filter.date_to)
