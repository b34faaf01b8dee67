from __future__ import annotations

import dataclasses
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard.calls.callers import MAX_ROWS_PER_KIND as CALLER_MAX_ROWS
from dashboard.calls.callers import caller_history
from dashboard.calls.filters import DEFAULT_PER_PAGE, PER_PAGE_CHOICES, CallFilterForm, quick_ranges
from dashboard.calls.phone import number_key
from dashboard.calls.service import fetch_calls
from dashboard.calls.table import columns_for
from dashboard.calls.timeline import ALL_KINDS, BadCursor, Cursor, fetch_timeline, timeline_columns
from dashboard.followup.later import LaterContacts, later_contacts
from dashboard.followup.marks import events_for_number
from dashboard.followup.screens import missed_with_followups
from dashboard.followup.state import followups_for
from dashboard.lines.access import line_view
from dashboard.lines.audit import record_line_access
from dashboard.lines.models import Line
from dashboard.smsmobileapi.records import CallKind

DEFAULT_KIND = CallKind.MISSED  # missed calls are the ones that need someone's attention


LAST_LINE_SESSION_KEY = "last_line_id"


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The line the user last looked at, else their oldest one."""
    lines = Line.objects.visible_to(request.user)
    last_id = request.session.get(LAST_LINE_SESSION_KEY)
    line = lines.filter(pk=last_id).first() if isinstance(last_id, int) else None
    line = line or lines.order_by("pk").first()
    if line is None:
        return render(request, "calls/no_lines.html")
    return redirect("line-calls", line_id=line.pk, kind=DEFAULT_KIND)


@line_view()
@require_safe
def line_home(request: HttpRequest, line: Line) -> HttpResponse:
    return redirect("line-calls", line_id=line.pk, kind=DEFAULT_KIND)


@line_view()
@require_safe
@vary_on_headers("HX-Request")
def call_list(request: HttpRequest, line: Line, kind: CallKind) -> HttpResponse:
    record_line_access(request, line, kind)  # personal data: who read which calls (throttled)
    if request.session.get(LAST_LINE_SESSION_KEY) != line.pk:  # avoid a session write per request
        request.session[LAST_LINE_SESSION_KEY] = line.pk
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    followup_context = {}
    if kind is CallKind.MISSED:  # marks, "answered later", the "To follow up" view
        page, followup_context = missed_with_followups(request, line, call_filter)
    else:
        page = fetch_calls(
            line, kind, call_filter, request.time_zone, refresh="refresh" in request.GET
        )
    # The follow-up context may bring its own columns (the missed tab adds one).
    extra = {"columns": columns_for(kind, call_filter), **followup_context}
    return _render_calls(request, line, kind, page, **extra)


# Where the user is in a list beyond the filter: the timeline's cursors, the follow-up scan.
POSITION_PARAMS = ("cursor", "before", "scan", "followup")


def _render_calls(request, line, kind, page, **extra) -> HttpResponse:
    """The one call-table screen (every kind and the timeline): the whole page, or its
    results partial for htmx (a history-restore request needs the whole page)."""
    position = {k: request.GET[k] for k in POSITION_PARAMS if request.GET.get(k)}
    context = {
        "line": line,
        # A callable: templates call it only when the line switcher is drawn (never in an
        # htmx partial), and building the permission query costs about a millisecond.
        "lines": functools.partial(Line.objects.visible_to, request.user),
        "kind": kind,
        "kinds": list(CallKind),
        "filter": page.filter,
        "page": page,
        # Refresh and Try again reload this very view, page position included.
        "refresh_params": {**page.filter.params, **position, "refresh": "1"},
        # Another line's same tab keeps the search, dates, sort and the follow-up view;
        # not the page or cursor, which are positions in this line's list.
        "switch_params": {
            **{k: v for k, v in page.filter.params.items() if k != "page"},
            **{k: v for k, v in position.items() if k == "followup"},
        },
        "per_page_choices": PER_PAGE_CHOICES,
        "default_per_page": DEFAULT_PER_PAGE,
        "quick_ranges": quick_ranges(timezone.localdate()),
        "today": timezone.localdate(),  # "Today 14:03" in a cached fragment is per day
        "time_zone": request.time_zone,
        **extra,
    }
    template = "calls/call_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


# The all-calls timeline and caller pages -------------------------------------------------


@line_view()
@require_safe
@vary_on_headers("HX-Request")
def timeline(request: HttpRequest, line: Line) -> HttpResponse:
    """Missed, incoming and outgoing merged newest first; the cursor is in the URL."""
    record_line_access(request, line, "all")
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    cursor, before, cursor_problem = _timeline_position(request)
    if cursor_problem:
        call_filter = dataclasses.replace(
            call_filter, problems=(*call_filter.problems, cursor_problem)
        )
    page = fetch_timeline(
        line,
        call_filter,
        request.time_zone,
        cursor=cursor,
        before=before,
        refresh="refresh" in request.GET,
    )
    return _render_calls(
        request,
        line,
        ALL_KINDS,
        page,
        columns=timeline_columns(),
        followups=followups_for(line, page.calls, later_contacts(line)),
    )


def _timeline_position(request: HttpRequest) -> tuple[Cursor | None, Cursor | None, str]:
    """(cursor, before, problem): a bad value falls back to the newest calls, with a word."""
    try:
        cursor = Cursor.parse(request.GET["cursor"]) if request.GET.get("cursor") else None
        before = Cursor.parse(request.GET["before"]) if request.GET.get("before") else None
    except BadCursor:
        return (
            None,
            None,
            str(_("The page position in the link was not understood; showing the newest calls.")),
        )
    return cursor, before, ""


@line_view()
@require_safe
def caller(request: HttpRequest, line: Line, number: str) -> HttpResponse:
    """Every call with one number on this line, with its follow-up marks."""
    key = number_key(number, line.default_region)
    if not key:  # a hand-edited link: say so where the user can pick a real number
        messages.error(request, _("“%(text)s” is not a phone number.") % {"text": number[:40]})
        return redirect("line-timeline", line_id=line.pk)
    if key != number:  # one address per caller, however the number was written
        return redirect("line-caller", line_id=line.pk, number=key)
    record_line_access(request, line, "caller")
    history = caller_history(line, key, refresh="refresh" in request.GET)
    later = LaterContacts.from_calls(history.calls, line.default_region)
    context = {
        "line": line,
        "history": history,
        "followups": followups_for(line, history.calls, later),
        "events": events_for_number(line, key),
        "max_per_kind": CALLER_MAX_ROWS,
        "capped_labels": ", ".join(k.label for k in history.capped),
        "time_zone": request.time_zone,
    }
    return render(request, "calls/caller.html", context)
