from __future__ import annotations

import dataclasses
import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard.calls.cache import StoredView, ViewCache, viewer_parts
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
from dashboard.inbox.listing import open_count
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
    if kind is CallKind.MISSED and request.GET.get("followup") == "open":
        # "To follow up" became the inbox; old links and bookmarks keep working.
        return _to_inbox(request, line)
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    views = _views_for(request, line, kind, call_filter.params)
    stored = _stored_view(request, views)
    if stored is not None:
        return _render_calls(
            request, line, kind, stored, call_filter, views=views, listing=stored.listing
        )
    followup_context = {}
    if kind is CallKind.MISSED:  # marks and "answered later"
        page, followup_context = missed_with_followups(request, line, call_filter)
    else:
        page = fetch_calls(
            line, kind, call_filter, request.time_zone, refresh="refresh" in request.GET
        )
    # The follow-up context may bring its own columns (the missed tab adds one).
    extra = {"columns": columns_for(kind, call_filter), **followup_context}
    return _render_calls(request, line, kind, page, page.filter, views=views, **extra)


def _to_inbox(request: HttpRequest, line: Line) -> HttpResponse:
    keep = {k: request.GET[k] for k in ("q", "from", "to", "per_page") if request.GET.get(k)}
    url = reverse("line-inbox", kwargs={"line_id": line.pk})
    return redirect(f"{url}?{urlencode(keep)}" if keep else url, permanent=True)


# Where the user is in a list beyond the filter: the timeline's cursors.
POSITION_PARAMS = ("cursor", "before")


def _views_for(request, line, screen, params) -> ViewCache | None:
    """Where this screen's rendered list is stored for this viewer (None when the line's
    key cannot be read)."""
    position = {k: request.GET[k] for k in POSITION_PARAMS if request.GET.get(k)}
    return ViewCache.for_view(line, screen, {**params, **position}, viewer_parts(request))


def _stored_view(request, views: ViewCache | None) -> StoredView | None:
    """The stored list (and, for a whole page, the stored controls); a Refresh draws
    both afresh."""
    if views is None or "refresh" in request.GET:
        return None
    return views.lookup(controls=_whole_page(request))


def _whole_page(request) -> bool:
    # A history-restore request needs the whole page too.
    return not request.htmx or request.htmx.history_restore_request


def _render_calls(request, line, kind, page, call_filter, *, views=None, listing=None, **extra):
    """The one call-table screen (every kind and the timeline): the whole page, or its
    results partial for htmx (a history-restore request needs the whole page). `listing`:
    the list already rendered (a stored view); else it is rendered, and stored in `views`."""
    position = {k: request.GET[k] for k in POSITION_PARAMS if request.GET.get(k)}
    context = {
        "line": line,
        # A callable: templates call it only when the line switcher is drawn (never in an
        # htmx partial), and building the permission query costs about a millisecond.
        "lines": functools.partial(Line.objects.visible_to, request.user),
        "kind": kind,
        "kinds": list(CallKind),
        "filter": call_filter,
        "page": page,
        # Refresh and Try again reload this very view, page position included.
        "refresh_params": {**call_filter.params, **position, "refresh": "1"},
        # Another line's same tab keeps the search, dates and sort; not the page or
        # cursor, which are positions in this line's list.
        "switch_params": {k: v for k, v in call_filter.params.items() if k != "page"},
        "per_page_choices": PER_PAGE_CHOICES,
        "default_per_page": DEFAULT_PER_PAGE,
        "quick_ranges": quick_ranges(timezone.localdate()),
        "today": timezone.localdate(),  # "Today 14:03" in a cached fragment is per day
        "time_zone": request.time_zone,
        **extra,
    }
    template = "calls/call_list.html"
    if _whole_page(request):
        # Counted once for the title and the Missed tab's badge (inbox), whole pages only.
        context["open_total"] = open_count(line)
        controls = views.controls if views is not None else None
        if controls is None:
            controls = render_to_string(f"{template}#controls", context, request)
            if views is not None:
                views.store_controls(controls)
        context["controls"] = mark_safe(controls)  # noqa: S308 - our own rendered output
    else:
        template += "#results"
    if listing is None:
        listing = render_to_string("calls/call_list.html#listing", context, request)
        if views is not None and views.generations is not None:
            views.store(
                StoredView(
                    listing=listing,
                    fetched_at=page.fetched_at,
                    first_index=page.first_index,
                    last_index=page.last_index,
                    has_prev=page.has_prev,
                    has_next=getattr(page, "has_next", False),
                )
            )
    context["listing"] = mark_safe(listing)  # noqa: S308 - our own rendered, escaped output
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
    # A bad cursor shows the newest calls: stored under no position, like the first page.
    views = _views_for(request, line, ALL_KINDS, call_filter.params) if not cursor_problem else None
    stored = _stored_view(request, views)
    if stored is not None:
        return _render_calls(
            request, line, ALL_KINDS, stored, call_filter, views=views, listing=stored.listing
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
        page.filter,
        views=views,
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
